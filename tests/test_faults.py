"""The fault pass, pinned: hostile pictures, labels and regions give one line, and the run goes on."""

import contextlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_app.contract import Box, ContractError, crop_region, load_image, model_input
from edge_app.interpreter import DEFAULT_MODEL, HouseNumberModel
from edge_app.regions import parse_roi

from .conftest import ROOT, run_module
from .hostile import copy_labelled, png_header


@pytest.fixture
def folder(svhn, tmp_path):
    """12 real recon/test pictures with their labels as digitStruct.csv."""
    copy_labelled(svhn, tmp_path / "pics", 12)
    return tmp_path / "pics"


def test_a_decompression_bomb_is_an_unreadable_picture(tmp_path):
    (tmp_path / "big.png").write_bytes(png_header(14000, 14000))
    with pytest.raises(ContractError, match="big.png: picture too large to read"):
        load_image(tmp_path / "big.png")


def test_a_16_bit_picture_reads_like_its_8_bit_copy(svhn, tmp_path):
    grey = np.asarray(Image.open(svhn / "recon" / "test" / "1.png").convert("L"))
    Image.fromarray(grey).save(tmp_path / "8.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "16.png")
    assert Image.open(tmp_path / "16.png").mode == "I;16"
    eight, sixteen = load_image(tmp_path / "8.png"), load_image(tmp_path / "16.png")
    assert np.array_equal(eight, sixteen)  # not the all-white picture that read "1"
    model = HouseNumberModel(DEFAULT_MODEL)
    region = Box(0, 0, *grey.shape[::-1])
    assert model.read(model_input(sixteen, region)).text == model.read(model_input(eight, region)).text


@pytest.mark.parametrize("box,message", [
    (Box(0, 0, 1e9, 1e9), "more than 2x"),
    (Box(0, 0, 200000, 200000), "more than 2x"),
    (Box(0, 0, float("inf"), 10), "not finite"),
    (Box(float("nan"), 0, 10, 10), "not finite"),
    (Box(5000, 5000, 10, 10), "outside"),
])
def test_a_region_is_bounded_by_the_frame_before_any_allocation(box, message):
    frame = np.zeros((480, 640, 3), np.uint8)
    with pytest.raises(ContractError, match=message):
        crop_region(frame, box)
    assert crop_region(frame, Box(-600, -400, 1280, 960)).shape == (64, 64, 3)  # 2x, off the edges: still read


@pytest.mark.parametrize("text,message", [("0,0,1e9,1e9", "within 65536"), ("0,0,inf,10", "finite"),
                                          ("nan,0,10,10", "finite"), ("0,0,0,10", "positive"), ("1,2,3", "x,y,w,h")])
def test_roi_flags_are_checked_before_any_frame(text, message):
    with pytest.raises(ValueError, match=message):
        parse_roi(text)


def test_folder_run_skips_bad_pictures_by_name_and_ends_with_its_summary(folder):
    (folder / "2.png").write_bytes(png_header(14000, 14000))
    bmp = folder / "3.bmp"
    Image.open(folder / "4.png").save(bmp)
    data = bytearray(bmp.read_bytes())
    data[18:26] = struct.pack("<ii", 2**31 - 1, 2**31 - 1)  # a fuzzed header: absurd width and height
    bmp.write_bytes(bytes(data))
    proc = run_module("edge_app", "--source", folder, "--scan", "--threshold", "0")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if "skipped frame" in line]
    assert len(skipped) == 2 and "2.png" in skipped[0] + skipped[1] and "3.bmp" in skipped[0] + skipped[1]
    assert "frames" in proc.stderr.splitlines()[-1]  # the summary still comes


def test_boxes_skips_the_picture_with_a_bad_label_naming_file_and_field(folder):
    lines = (folder / "digitStruct.csv").read_text().splitlines()
    row = lines[3].split(";")
    row[2] = "nan"  # a NaN top of a box of the third row's picture
    lines[3] = ";".join(row)
    (folder / "digitStruct.csv").write_text("\n".join(lines) + "\n")
    proc = run_module("edge_app", "--source", folder, "--boxes", "--threshold", "0", "--jsonl", folder / "r.jsonl")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if "skipped frame" in line]
    assert len(skipped) == 1 and f"{row[0]} left out: field 'top' is 'nan'" in skipped[0]
    readings = [json.loads(line) for line in (folder / "r.jsonl").read_text().splitlines()]
    assert row[0] not in {r["file"] for r in readings} and len(readings) >= 8


def test_evaluate_and_calibration_treat_a_bad_label_alike(folder, tmp_path):
    lines = (folder / "digitStruct.csv").read_text().splitlines()
    lines[2] = lines[2].split(";")[0] + ";13;1;1;5;5"  # label 13
    (folder / "digitStruct.csv").write_text("\n".join(lines) + "\n")
    name = lines[2].split(";")[0]
    calib_folder = tmp_path / "train_like"
    shutil.copytree(folder, calib_folder)
    runs = {"evaluate": ["train.evaluate", "--model", DEFAULT_MODEL, "--data", folder, "--json", tmp_path / "e.json"],
            "calibration": ["calibration", "--data", calib_folder, "--count", "5", "--out", tmp_path / "c.npz"]}
    for what, args in runs.items():
        proc = run_module(*args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, what
        assert f"{name} left out: field 'label' is '13'" in proc.stderr and "--skip-bad" in proc.stderr, what
        assert not list(tmp_path.glob("e.*" if what == "evaluate" else "c.*")), what  # nothing half-written
        proc = run_module(*args, "--skip-bad")
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert f"skipped {folder if what == 'evaluate' else calib_folder}/digitStruct.csv" in proc.stderr, what
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["count"] == 11 and report["skipped"] == 1
    assert (tmp_path / "e.coverage.png").exists() and (tmp_path / "e.mistakes.png").exists()


def test_written_files_follow_the_umask(tmp_path):
    code = ("import os, sys\nos.umask(int(sys.argv[1], 8))\nfrom edge_app.atomic import write_atomic\n"
            "p = write_atomic(sys.argv[2], 'x')\nprint(oct(os.stat(p).st_mode & 0o777))")
    modes = [subprocess.run([sys.executable, "-c", code, mask, str(tmp_path / f"{mask}.json")], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() for mask in ("022", "027", "077")]
    assert modes == ["0o644", "0o640", "0o600"]


@contextlib.contextmanager
def _synth_drawing(tmp_path, **popen):
    """`train.synth` with 2 workers, 20 pictures into its 20,000: (the process, its workers' pids). Killed
    afterwards whatever happened, so a failed check leaves nothing drawing through the rest of the suite."""
    proc = subprocess.Popen([sys.executable, "-m", "train.synth", "--out", str(tmp_path / "synth"), "--count",
                             "20000", "--workers", "2", "-q"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **popen)
    try:
        deadline = time.time() + 240  # a loaded CI machine takes its time to start two workers
        while time.time() < deadline and sum(len(os.listdir(p)) for p in tmp_path.glob(".synth.partial-*")) < 20:
            time.sleep(0.1)
        assert list(tmp_path.glob(".synth.partial-*")), "the generator never started"
        workers = [int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert len(workers) == 2, workers
        yield proc, workers
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_synth_leaves_no_partial_folder_and_no_traceback(tmp_path, sig):
    with _synth_drawing(tmp_path, preexec_fn=_default_sigint) as (proc, workers):
        os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)  # Ctrl-C reaches the workers too
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "Traceback" not in err and "BrokenPipe" not in err, err
        assert os.listdir(tmp_path) == [] and _ended(workers)


def test_a_synth_worker_that_dies_fails_the_run_in_one_line_and_leaves_nothing(tmp_path):
    with _synth_drawing(tmp_path) as (proc, workers):
        os.kill(workers[0], signal.SIGKILL)  # the out-of-memory killer, say
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1 and "a worker died" in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1, err
        assert os.listdir(tmp_path) == [] and _ended(workers)  # nothing outlives it


def test_synth_workers_stop_when_their_parent_is_killed_outright(tmp_path):
    with _synth_drawing(tmp_path) as (proc, workers):
        proc.kill()  # SIGKILL: no handler runs, nothing is cleaned up, the workers are orphans
        _, err = proc.communicate(timeout=60)  # returns once the workers, which hold stderr too, have ended
        assert "Traceback" not in err and "BrokenPipe" not in err, err
        assert _ended(workers)


def _ended(pids: list[int], seconds: float = 10) -> bool:
    """Every process gone or a zombie within `seconds` (one that has just closed its files is still exiting)."""
    def running(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
        except (OSError, IndexError):
            return False
    deadline = time.time() + seconds
    while any(running(pid) for pid in pids) and time.time() < deadline:
        time.sleep(0.05)
    return not any(running(pid) for pid in pids)


def test_a_video_that_ends_early_says_so_with_the_frame_count(tmp_path):
    cv2 = pytest.importorskip("cv2")
    video = tmp_path / "gate.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(60):
        writer.write(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    writer.release()
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])  # cut short, as a copy that broke off
    proc = run_module("edge_app", "--source", video, "--roi", "0,0,160,120", "--quiet")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "the video ended at frame 30 of the 60 its header announces" in proc.stderr


def test_a_gif_in_a_folder_is_read(folder):
    Image.open(folder / "2.png").save(folder / "2.gif")
    (folder / "2.png").unlink()
    (folder / "notes.txt").write_text("not a picture")
    proc = run_module("edge_app", "--source", folder, "--boxes", "--threshold", "0")
    assert proc.returncode == 0, proc.stderr
    assert "not reading 1 files that are not pictures (notes.txt)" in proc.stderr
    assert "2.gif" in proc.stderr  # its label is for 2.png: named as a picture without boxes, not silently dropped


def test_edgetpu_without_its_library_is_one_line(tmp_path):
    shutil.copyfile(DEFAULT_MODEL, tmp_path / "m_edgetpu.tflite")
    shutil.copyfile(DEFAULT_MODEL.with_suffix(".json"), tmp_path / "m.json")
    (tmp_path / "libedgetpu.so.1").write_bytes(b"not a library")
    proc = run_module("edge_app", "--model", tmp_path / "m_edgetpu.tflite", "--edgetpu", "--source", DEFAULT_MODEL,
                      env={"HOUSE_NUMBERS_LIBEDGETPU": str(tmp_path / "libedgetpu.so.1")})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot load the Edge TPU delegate" in proc.stderr and "Delegate" not in proc.stderr


def test_ctrl_c_while_the_model_loads_is_a_quiet_exit_130(tmp_path):
    # The Edge TPU probe (a child process) is the slow part of loading; Ctrl-C lands while it runs.
    shutil.copyfile(DEFAULT_MODEL, tmp_path / "m_edgetpu.tflite")
    shutil.copyfile(DEFAULT_MODEL.with_suffix(".json"), tmp_path / "m.json")
    (tmp_path / "libedgetpu.so.1").write_bytes(b"not a library")
    proc = subprocess.Popen([sys.executable, "-m", "edge_app", "--model", str(tmp_path / "m_edgetpu.tflite"),
                             "--edgetpu", "--source", str(DEFAULT_MODEL), "--roi", "0,0,54,54",
                             "--jsonl", str(tmp_path / "r.jsonl")],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint,
                            env={**os.environ, "HOUSE_NUMBERS_LIBEDGETPU": str(tmp_path / "libedgetpu.so.1")})
    deadline = time.time() + 60
    while time.time() < deadline and not _children(proc.pid):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and "KeyboardInterrupt" not in err, err


def _default_sigint() -> None:
    """In the child: Ctrl-C back to its default. A suite started in the background (`cmd &` without job
    control) hands every process SIGINT ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(entry)
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_a_second_annotate_run_refuses_the_first_ones_pictures_unless_forced(folder, tmp_path):
    out = tmp_path / "frames"
    args = ["edge_app", "--source", folder, "--boxes", "--threshold", "0", "--annotate", out, "--quiet"]
    assert run_module(*args).returncode == 0
    first = sorted(p.name for p in out.iterdir())
    assert len(first) == 12
    proc = run_module(*args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "holds 12 pictures of an earlier run" in proc.stderr
    (folder / "12.png").unlink()  # a shorter second run must not leave the first run's last frame behind
    assert run_module(*args, "--force").returncode == 0
    assert len(list(out.iterdir())) == 11
    blocked = tmp_path / "file"
    blocked.write_text("x")
    proc = run_module("edge_app", "--source", folder, "--annotate", blocked / "sub", "--quiet")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "cannot make the folder" in proc.stderr


def test_skip_bad_leaves_out_a_nan_box_in_the_training_cache(folder, tmp_path):
    from train.cache import DataError, load_crops

    lines = (folder / "digitStruct.csv").read_text().splitlines()
    name, *fields = lines[1].split(";")
    lines[1] = ";".join([name, fields[0], fields[1], "nan", *fields[3:]])  # the left of a box is NaN
    (folder / "digitStruct.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=f"{name} left out: field 'left' is 'nan'.*--skip-bad"):
        load_crops(folder, tmp_path / "cache", quiet=True)
    crops = load_crops(folder, tmp_path / "cache", skip_bad=True, quiet=True)
    assert len(crops) == 11 and name not in crops.names and f"{name} left out" in crops.skipped[0]


@pytest.mark.parametrize("flag", [["--threshold", "nan"], ["--threshold", "1.5"], ["--max-frames", "-1"],
                                  ["--size", "0x0"], ["--threads", "0"], ["--threads", "100000"],
                                  ["--roi", "0,0,1e9,1e9"], ["--roi", "0,0,inf,10"], ["--roi", "nan,0,10,10"]])
def test_edge_app_flags_are_range_checked(flag):
    from edge_app.__main__ import main

    with pytest.raises(SystemExit) as done:
        main(["--source", "picamera", *flag])
    assert done.value.code == 2
