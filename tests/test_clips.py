"""The camera-like clips and their scorer (python -m train.synth clips, scripts/eval_clips.py): every frame says where
each number is, a clip is drawn from its seed and index alone, and the scorer counts right clips, wrong and false
reports and the delay to the first right report as documented. Real SVHN numbers (recon/train), the shipped models."""

import json
from types import SimpleNamespace

import pytest
from PIL import Image

from edge_app import live
from edge_app.sources import open_source
from scripts import eval_clips
from tests.conftest import run_module

KINDS = "steady,two,empty"


@pytest.fixture(scope="module")
def clips(tmp_path_factory, svhn):
    out = tmp_path_factory.mktemp("clips") / "c"
    proc = run_module("train.synth", "clips", "--out", out, "--numbers", svhn / "recon" / "train", "--kinds", KINDS,
                      "--per-kind", "1", "--seed", "5", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_frame_says_where_each_number_is(clips):
    meta = json.loads((clips / "clips.json").read_text())
    assert [c["kind"] for c in meta["clips"]] == KINDS.split(",")
    width, height = meta["size"]
    for clip in meta["clips"]:
        assert len(clip["numbers"]) == {"steady": 1, "two": 2, "empty": 0}[clip["kind"]]
        assert all(n.isdigit() for n in clip["numbers"])
        with open_source(str(clips / clip["file"])) as source:
            frames = [f.image for f in source]
        assert len(frames) == len(clip["frames"]) > 0 and frames[0].shape == (height, width, 3)
        for seen in clip["frames"]:
            for index, (left, top, w, h), whole in seen:
                assert 0 <= index < len(clip["numbers"]) and w > 0 and h > 0
                if whole:  # all of it in view: inside the frame
                    assert left >= 0 and top >= 0 and left + w <= width and top + h <= height
        if clip["numbers"]:
            assert any(whole for seen in clip["frames"] for *_, whole in seen)


def test_a_clip_is_drawn_from_its_seed_and_index_alone(clips, svhn, tmp_path):
    proc = run_module("train.synth", "clips", "--out", tmp_path / "one", "--numbers", svhn / "recon" / "train",
                      "--kinds", "steady", "--per-kind", "1", "--seed", "5", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    first = json.loads((clips / "clips.json").read_text())["clips"][0]
    again = json.loads((tmp_path / "one" / "clips.json").read_text())["clips"][0]
    assert again == first
    assert (tmp_path / "one" / again["file"]).read_bytes() == (clips / first["file"]).read_bytes()


def test_the_scorer_counts_right_clips_wrong_and_false_reports_and_delays():
    def clip(name, kind, numbers, whole_from):
        frames = [[[k, [10, 10, 20, 20], i >= whole_from] for k in range(len(numbers))] for i in range(30)]
        return {"file": name, "kind": kind, "numbers": numbers, "frames": frames}

    def said(*events):
        return [SimpleNamespace(event=e, reading=r, frame=f) for e, r, f in events]

    clips = [clip("a", "steady", ["12"], 5), clip("b", "steady", ["40"], 0), clip("c", "two", ["7", "81"], 0),
             clip("d", "empty", [], 0)]
    results = {"a": said(("reported", "12", 11), ("gone", "12", 29)),  # right, 6 frames after it is all in view
               "b": said(("reported", "4", 3), ("updated", "40", 9)),  # a wrong report first: not right
               "c": said(("reported", "81", 2)),  # one of two numbers: not right, nothing wrong
               "d": said(("reported", "1", 4))}  # a false report on an empty clip
    report = eval_clips.score(clips, results, fps=15)
    rows = {r["file"]: r for r in report["clips"]}
    assert [rows[n]["right"] for n in "abcd"] == [True, False, False, False]
    assert [rows[n]["wrong"] for n in "abc"] == [0, 1, 0]
    assert rows["a"]["delays_s"] == [pytest.approx(6 / 15)]
    overall = report["overall"]
    assert (overall["with_number"], overall["empty"], overall["right"]) == (3, 1, 1)
    assert (overall["wrong_reports"], overall["false_on_empty"]) == (1, 1)
    assert report["kinds"]["steady"]["right"] == 1 and report["kinds"]["two"]["right"] == 0


def test_eval_clips_runs_the_app_on_a_clip_folder(clips, tmp_path):
    out = tmp_path / "report.json"
    proc = run_module("scripts.eval_clips", "--clips", clips, "--json", out, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    overall = report["overall"]
    assert (overall["clips"], overall["with_number"], overall["empty"]) == (3, 2, 1)
    assert overall["false_on_empty"] == 0  # the shipped pair reports nothing on a house front without a number
    assert report["track_gate"] == live.TRACK_GATE and report["threads"] == 1 and report["frame_ms_p50"] > 0
    for row in report["clips"]:  # every report is scored against the clip's own numbers
        assert row["wrong"] == sum(r not in row["numbers"] for r in row["reported"])


def test_the_strip_of_a_clip_is_drawn(clips, tmp_path):
    """scripts/clip_strip.py, the figure in docs/live.md: frames side by side, as wide as asked."""
    out = tmp_path / "strip.png"
    proc = run_module("scripts.clip_strip", "--clip", clips / "0001_steady.avi", "--out", out, "--count", "4",
                      "--width", "160", timeout=300)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as im:
        assert im.width >= 4 * 160 and im.height >= 100
