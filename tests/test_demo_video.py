"""The demo and diagnosis scripts: scripts/make_demo_video.py (a video the app reads), scripts/bench_outputs.py (the
outputs' cost against a real Mosquitto) and scripts/height_diagnosis.py (SVHN's recon/ construction)."""

import json
import shutil

import numpy as np
import pytest

from edge_app.annotations import read_annotations

from .conftest import run_main

cv2 = pytest.importorskip("cv2")
ROI = "224,176,192,128"


@pytest.fixture(scope="module")
def demo(svhn, tmp_path_factory):
    """Three recon/train numbers, five frames each."""
    from scripts.make_demo_video import main

    out = tmp_path_factory.mktemp("demo") / "demo.avi"
    assert main(["--data", str(svhn / "recon" / "train"), "--out", str(out), "--numbers", "3", "--frames", "5"]) == 0
    return out


def test_the_video_holds_each_number_in_the_roi(demo):
    capture = cv2.VideoCapture(str(demo))
    frames = []
    while (got := capture.read())[0]:
        frames.append(got[1])
    capture.release()
    assert len(frames) == 15 and frames[0].shape == (480, 640, 3)
    x, y, w, h = map(int, ROI.split(","))
    outside = frames[0].astype(np.float32).copy()
    outside[y : y + h, x : x + w] = np.nan
    assert 74 < np.nanmean(outside) < 84  # the grey 70 with noise up to 20
    number = [f[y : y + h, x : x + w].astype(np.float32) for f in frames]
    assert np.abs(number[0] - number[4]).mean() < 3  # one number held for its five frames (MJPG noise)
    assert np.abs(number[4] - number[5]).mean() > 20  # then the next


def test_the_app_reads_the_demo_video(demo, svhn, tmp_path):
    jsonl = tmp_path / "readings.jsonl"
    done = run_main("edge_app", "--source", demo, "--roi", ROI, "--jsonl", jsonl, "--quiet")
    assert done.returncode == 0, done.stderr
    read = [json.loads(line)["reading"] for line in jsonl.read_text().splitlines()]
    truth = ["".join(map(str, a.digits)) for a in read_annotations(svhn / "recon" / "train")[:3]]
    assert read == truth


def test_a_failed_video_says_why_and_leaves_nothing(svhn, tmp_path, capsys):
    from scripts.make_demo_video import main

    broken = tmp_path / "broken"
    shutil.copytree(svhn / "recon" / "train", broken, ignore=lambda d, names: [n for n in names if n == "2.png"])
    out = tmp_path / "demo.avi"
    assert main(["--data", str(broken), "--out", str(out), "--numbers", "3", "--frames", "2"]) == 1
    err = capsys.readouterr().err
    assert "2.png" in err and err.count("\n") == 1  # one line naming the missing picture
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".avi" or p.name.startswith(".demo")]


def test_the_outputs_bench_runs_both_modes(demo, tmp_path):
    from scripts.bench_outputs import main

    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed: scripts/test.sh installs it (apt-get install -y mosquitto)")
    out = tmp_path / "bench.json"
    assert main(["--video", str(demo), "--passes", "40", "--block", "0.2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["frames"]) == {"outputs off", "mqtt + http + page"}
    assert all(n > 0 for n in result["frames"].values()) and sum(result["frames"].values()) <= 40 * 15
    assert sum(result["readings"].values()) >= 40 * 3 * 0.9  # each pass reads its three numbers
    assert "errors" not in result["page_requests"] and result["page_requests"].get("/api/status", 0) >= 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bench")]


def test_height_diagnosis_rebuilds_only_the_digit_windows_and_reports(svhn, capsys):
    from scripts.height_diagnosis import main, rebuilt, sharpness
    from train.synth.render import render

    for seed in range(20):  # the first picture with a digit well over 32 px: the 32x32 round trip blurs it
        picture = render(np.random.default_rng([7, seed]))
        if min(b.height for b in picture.boxes) > 48:
            break
    image = np.asarray(picture.image.convert("RGB"))
    back = rebuilt(image, picture.boxes)
    changed = np.abs(back.astype(int) - image).max(axis=2) > 0
    windows = np.zeros_like(changed)
    for b in picture.boxes:
        side = max(b.width, b.height)
        x0, y0 = int(b.left + b.width / 2 - side / 2) - 1, int(b.top + b.height / 2 - side / 2) - 1
        windows[max(y0, 0) : y0 + int(side) + 3, max(x0, 0) : x0 + int(side) + 3] = True
    assert changed.any() and not (changed & ~windows).any()  # nothing outside the digits' windows moves
    b = picture.boxes[0]
    crop = (slice(int(b.top), int(b.top + b.height)), slice(int(b.left), int(b.left + b.width)))
    assert sharpness(back[crop]) < sharpness(image[crop])

    assert main(["--real", str(svhn / "recon" / "train"), "--count", "12"]) == 0
    out = capsys.readouterr().out
    assert "498 pictures" in out and "synthetic: 12 pictures" in out and "rebuilt as recon/: 12 pictures" in out
