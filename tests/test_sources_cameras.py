"""Live cameras that go away and come back: the Pi camera (stand-in picamera2) and USB cameras (stand-in
VideoCapture)."""

from __future__ import annotations

import logging
import sys
import types

import numpy as np
import pytest
from PIL import Image

from edge_app.sources import SourceError, open_source

# Test pictures whose mean red and mean blue differ by more than 45 levels, so a BGR frame cannot pass for RGB.
COLOURFUL = [105, 180, 62, 15]
TINY = {"retries": 3, "backoff": 0.001, "size": (320, 240)}


@pytest.fixture
def pictures(svhn) -> list[np.ndarray]:
    """Four real pictures, 240x320 RGB, as a camera would deliver them."""
    test = svhn / "recon" / "test"
    return [np.asarray(Image.open(test / f"{n}.png").convert("RGB").resize((320, 240))) for n in COLOURFUL]


def fake_picamera2(pictures, lives):
    """A picamera2 module; camera n delivers lives[n] frames then times out.

    None: forever; an exception: fails to open.
    """
    opened = []

    class Picamera2:
        def __init__(self, camera_num=0):
            life = lives[min(len(opened), len(lives) - 1)]
            opened.append(self)
            if isinstance(life, Exception):
                raise life
            self.camera_num, self.life, self.captured = camera_num, life, 0
            self.config, self.started, self.stopped, self.closed = None, False, False, False

        def create_preview_configuration(self, main, lores=None):
            assert lores is None  # no lores asked: one stream, as before
            return {"main": dict(main)}

        def configure(self, config):
            self.config = config

        def start(self):
            self.started = True

        def capture_request(self, wait=None):
            assert wait is False and self.started
            return self._next  # a job: wait() runs it

        def wait(self, job, timeout=None):
            assert timeout == 5.0
            return job()

        def _next(self):
            if self.life is not None and self.captured >= self.life:
                raise TimeoutError("no frame from the camera")
            picture = pictures[self.captured % len(pictures)]
            self.captured += 1
            main = np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])  # XBGR8888-like, 4 channels
            return types.SimpleNamespace(make_array={"main": main}.__getitem__, release=lambda: None)

        def stop(self):
            self.stopped = True

        def close(self):
            self.closed = True

    module = types.ModuleType("picamera2")
    module.Picamera2 = Picamera2
    return module, opened


def outage_lines(caplog):
    return [r for r in caplog.records if r.name == "edge_app" and r.levelno == logging.WARNING]


def take(source, n):
    iterator = iter(source)
    return [next(iterator) for _ in range(n)]


def test_picamera_reconnects_after_outages(pictures, monkeypatch, caplog):
    module, opened = fake_picamera2(pictures, [3, RuntimeError("Camera __init__ sequence did not complete."), 4, None])
    monkeypatch.setitem(sys.modules, "picamera2", module)
    caplog.set_level(logging.WARNING, logger="edge_app")
    with open_source("picamera", **TINY) as source:
        assert source.is_live and source.name == "picamera"
        frames = take(source, 12)
    assert opened[0].config == {"main": {"size": (320, 240), "format": "BGR888"}}
    assert [f.index for f in frames] == list(range(12))
    # camera 0: frames 0-2; camera 1 fails to open; camera 2: frames 3-6; camera 3: frames 7-11
    assert len(opened) == 4 and [c.captured for c in (opened[0], opened[2], opened[3])] == [3, 4, 5]
    assert opened[0].stopped and opened[0].closed and opened[2].closed and opened[3].closed
    for i in (0, 3, 7):  # each camera starts over at the first picture: RGB order kept, alpha dropped
        np.testing.assert_array_equal(frames[i].image, pictures[0])
        assert frames[i].image.flags.c_contiguous
    assert len(outage_lines(caplog)) == 2


def test_picamera_gives_up_after_retries(pictures, monkeypatch, caplog):
    module, opened = fake_picamera2(pictures, [2, RuntimeError("camera gone")])
    monkeypatch.setitem(sys.modules, "picamera2", module)
    caplog.set_level(logging.WARNING, logger="edge_app")
    beats = []
    source = open_source("picamera", **TINY, heartbeat=lambda: beats.append(1))
    iterator = iter(source)
    assert [next(iterator).index for _ in range(2)] == [0, 1]
    with pytest.raises(SourceError) as err:
        next(iterator)
    assert "3 reconnects failed" in str(err.value) and "\n" not in str(err.value)
    assert len(beats) == 3  # the watchdog hears from every reconnect attempt: reconnecting is not hanging
    assert len(opened) == 1 + 3 and opened[0].closed
    assert len(outage_lines(caplog)) == 1


def test_picamera_that_never_opens_fails_at_once(pictures, monkeypatch):
    module, opened = fake_picamera2(pictures, [RuntimeError("Camera(s) not found")])
    monkeypatch.setitem(sys.modules, "picamera2", module)
    with pytest.raises(SourceError, match="cannot open the camera: Camera\\(s\\) not found"):
        open_source("picamera:1", **TINY)
    assert len(opened) == 1


def test_picamera2_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)
    with pytest.raises(SourceError, match="sudo apt install python3-picamera2.*--system-site-packages"):
        open_source("picamera")


def fake_video_capture(pictures, lives, opened):
    """A cv2.VideoCapture stand-in; capture n delivers lives[n] BGR frames then fails.

    None: forever; False: won't open.
    """

    class FakeCapture:
        def __init__(self, index):
            self.life = lives[min(len(opened), len(lives) - 1)]
            opened.append(self)
            self.index, self.props, self.captured, self.released = index, {}, 0, False

        def isOpened(self):  # noqa: N802 (OpenCV's name)
            return self.life is not False and not self.released

        def set(self, prop, value):
            self.props[prop] = value
            return True

        def read(self):
            if self.life is not None and self.captured >= self.life:
                return False, None
            picture = pictures[self.captured % len(pictures)]
            self.captured += 1
            return True, np.ascontiguousarray(picture[:, :, ::-1])  # OpenCV delivers BGR

        def release(self):
            self.released = True

    return FakeCapture


def test_usb_camera_reconnects_and_returns_rgb(pictures, monkeypatch, caplog):
    cv2 = pytest.importorskip("cv2")
    opened = []
    monkeypatch.setattr(cv2, "VideoCapture", fake_video_capture(pictures, [2, False, False, None], opened))
    caplog.set_level(logging.WARNING, logger="edge_app")
    with open_source("camera:2", **TINY) as source:
        assert source.is_live
        frames = take(source, 5)
    assert opened[0].index == 2
    assert opened[0].props[cv2.CAP_PROP_FRAME_WIDTH] == 320 and opened[0].props[cv2.CAP_PROP_FRAME_HEIGHT] == 240
    assert len(opened) == 4 and all(c.released for c in opened)
    for frame, i in zip(frames, [0, 1, 0, 1, 2], strict=True):
        np.testing.assert_array_equal(frame.image, pictures[i])
    assert len(outage_lines(caplog)) == 1


def test_usb_camera_gives_up_after_retries(pictures, monkeypatch):
    cv2 = pytest.importorskip("cv2")
    opened = []
    monkeypatch.setattr(cv2, "VideoCapture", fake_video_capture(pictures, [1, False], opened))
    iterator = iter(open_source("camera:0", **TINY))
    next(iterator)
    with pytest.raises(SourceError, match="camera:0: camera lost and 3 reconnects failed"):
        next(iterator)
    assert len(opened) == 4


def test_usb_camera_that_is_not_there(pictures, monkeypatch):
    cv2 = pytest.importorskip("cv2")
    monkeypatch.setattr(cv2, "VideoCapture", fake_video_capture(pictures, [False], []))
    with pytest.raises(SourceError, match="no USB camera 5"):
        open_source("camera:5", **TINY)


def test_a_stream_that_stalls_again_at_once_is_one_outage_and_ends(caplog):
    """A stalled stream that reconnects, gives one frame and stalls again: one warning, then an end, not a loop
    of reconnects with a warning each."""
    from edge_app.sources.live import Reconnecting

    class Stalling:
        def __init__(self):
            self.shots = 1

        def read(self):
            if self.shots == 0:
                raise OSError("no frame (stream dropped or timed out)")
            self.shots -= 1
            return np.zeros((4, 4, 3), np.uint8), None

        def close(self):
            pass

    caplog.set_level(logging.WARNING, logger="edge_app")
    camera = Reconnecting("http://cam/x", Stalling, retries=4, backoff=0.001)
    shots = 0
    with pytest.raises(SourceError, match="4 reconnects failed .*stalled again"):
        for _ in range(50):
            camera.read()
            shots += 1
    assert shots == 5 and len(outage_lines(caplog)) == 1  # the first frame, then one per reconnect
