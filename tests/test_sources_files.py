"""Picture folders, single pictures and video files on real SVHN pictures, and the one registry that picks them."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
from PIL import Image

from edge_app.sources import OPENERS, SourceError, natural_key, open_source, source_kind

# Test pictures whose mean red and mean blue differ by more than 45 levels, so a BGR frame cannot pass for RGB.
COLOURFUL = [105, 180, 62, 15, 68, 58, 112, 33, 115, 156]


def rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture
def picture_dir(svhn, tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    for n in (10, 2, 1, 33, 105):
        shutil.copy(svhn / "recon" / "test" / f"{n}.png", folder)
    data = (svhn / "recon" / "test" / "7.png").read_bytes()
    (folder / "7.png").write_bytes(data[: len(data) // 2])  # truncated PNG
    (folder / "20.png").write_bytes(b"")  # empty file
    (folder / "digitStruct.csv").write_text("name;label\n")  # not a picture: ignored
    return folder


def test_natural_key_orders_numbers_by_value():
    names = ["10.png", "2.png", "1.png", "b.png", "a10.png", "a2.png"]
    assert sorted(names, key=natural_key) == ["1.png", "2.png", "10.png", "a2.png", "a10.png", "b.png"]


def test_picture_folder_in_natural_order_with_corrupt_files(picture_dir):
    with open_source(str(picture_dir)) as source:
        assert not source.is_live
        assert source.name == str(picture_dir)
        frames = list(source)
    assert [f.file for f in frames] == ["1.png", "2.png", "7.png", "10.png", "20.png", "33.png", "105.png"]
    assert [f.index for f in frames] == list(range(7))
    for frame in frames:
        if frame.file in ("7.png", "20.png"):
            assert frame.image is None
            assert frame.file in frame.error and "\n" not in frame.error
        else:
            assert frame.error is None
            assert frame.image.dtype == np.uint8 and frame.image.ndim == 3 and frame.image.shape[2] == 3
            np.testing.assert_array_equal(frame.image, rgb(picture_dir / frame.file))


def test_single_picture(svhn):
    path = svhn / "recon" / "test" / "1.png"
    with open_source(str(path)) as source:
        frames = list(source)
    assert len(frames) == 1 and frames[0].file == "1.png" and frames[0].index == 0
    np.testing.assert_array_equal(frames[0].image, rgb(path))


def test_single_corrupt_picture_is_a_frame_with_an_error(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (frame,) = list(open_source(str(tmp_path / "bad.jpg")))
    assert frame.image is None and "bad.jpg" in frame.error


@pytest.mark.parametrize(
    "spec, words",
    [
        ("EMPTY", "no pictures"),
        ("MISSING", "no such file or folder"),
        ("notes.txt", "unknown file type"),
        ("camera:left", "camera:N"),
        ("picamera:x", "picamera:N"),
    ],
)
def test_bad_sources_raise_one_line(tmp_path, spec, words):
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    target = spec if "camera" in spec else str(tmp_path / spec)
    with pytest.raises(SourceError) as err:
        open_source(target)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_video_frames_come_back_rgb(svhn, tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    assert writer.isOpened()
    originals = []
    for n in COLOURFUL:
        picture = np.asarray(Image.open(svhn / "recon" / "test" / f"{n}.png").convert("RGB").resize((320, 240)))
        originals.append(picture)
        writer.write(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    writer.release()

    with open_source(str(path)) as source:
        assert source.is_live
        frames = list(source)
    assert [f.index for f in frames] == list(range(len(COLOURFUL)))
    for frame, original in zip(frames, originals, strict=True):
        assert frame.image.shape == (240, 320, 3) and frame.image.dtype == np.uint8 and frame.file is None
        got, want = frame.image.reshape(-1, 3).mean(0), original.reshape(-1, 3).mean(0)
        assert abs(want[0] - want[2]) > 40  # swapped channels would miss by more than the tolerance below
        np.testing.assert_allclose(got, want, atol=8)


def test_video_usb_camera_and_streams_need_opencv(tmp_path, monkeypatch):
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 64)
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now raises ImportError
    for spec in (str(tmp_path / "clip.mp4"), "camera:0", "rtsp://192.0.2.1/stream"):
        with pytest.raises(SourceError, match="pip install opencv-python-headless"):
            open_source(spec)


def test_unreadable_video_raises(tmp_path):
    pytest.importorskip("cv2")
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 64)
    with pytest.raises(SourceError, match="cannot open this video"):
        open_source(str(tmp_path / "clip.mp4"))




def test_one_registry_names_every_kind(tmp_path, svhn):
    picture = svhn / "recon" / "test" / "1.png"
    (tmp_path / "clip.MP4").write_bytes(b"")
    kinds = {
        "picamera": "picamera", "picamera:1": "picamera", "camera:0": "camera",
        "rtsp://user:pw@192.0.2.1:554/live": "stream", "RTSPS://192.0.2.1/x": "stream",
        "http://192.0.2.1/mjpg/video.mjpg": "stream", "https://cam.example/stream": "stream",
        str(tmp_path): "folder", str(picture): "picture", str(tmp_path / "clip.MP4"): "video",
        "imx500:/etc/house-numbers/imx500/network.rpk": "imx500", "imx500": "imx500",
    }
    assert {spec: source_kind(spec) for spec in kinds} == kinds
    assert set(kinds.values()) == set(OPENERS)  # every opener is reachable, and nothing else is


def test_sources_package_has_no_import_cycle():
    import subprocess

    # Each module imported first on its own: a cycle hidden by import order would fail one of them.
    for module in ("base", "files", "video", "live", "cameras", "picamera", "streams"):
        code = f"import edge_app.sources.{module}; import edge_app.sources"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
