"""picamera2's two streams with the stand-in picamera2 (tests/fakes): main for the crop, lores for the detector.

The stand-in scales real SVHN pictures to each stream's size and packs lores as picamera2 does (YUV420 with
a padded stride, chroma from Pillow's own YCbCr), so the conversion and the box mapping are checked against
an independent encoder, not against themselves.
"""

from __future__ import annotations

import importlib
import logging
import sys

import numpy as np
import pytest

from edge_app.annotations import read_annotations
from edge_app.contract import Box, crop_region, digit_region, load_image
from edge_app.sources import Frame, SourceError, open_source
from edge_app.sources.picamera import yuv420_to_rgb
from tests.fakes import picamera2 as fake


@pytest.fixture
def labelled(svhn):
    """A real 2-digit test picture with its digit region (original pixels)."""
    folder = svhn / "recon" / "test"
    a = {x.name: x for x in read_annotations(folder)}["2.png"]
    return load_image(folder / "2.png"), digit_region(a.boxes)


@pytest.fixture
def camera(labelled, tmp_path, monkeypatch):
    """The stand-in picamera2 serving the labelled picture."""
    np.save(tmp_path / "frames.npy", labelled[0][None])
    monkeypatch.setenv("FAKE_PICAMERA_FRAMES", str(tmp_path / "frames.npy"))
    module = importlib.reload(fake)  # frame counter back to 0
    monkeypatch.setitem(sys.modules, "picamera2", module)
    return module


def first_frame(source) -> Frame:
    return next(iter(source))


@pytest.mark.parametrize("size", [(320, 240), (300, 226)])  # 300: rows padded to a 320-byte stride
def test_yuv420_to_rgb_matches_an_independent_encoder(svhn, size):
    picture = np.asarray(fake.scaled(load_image(svhn / "recon" / "test" / "105.png"), size))
    packed = fake.rgb_to_yuv420(picture)
    assert packed.shape == (size[1] * 3 // 2, -(-size[0] // 64) * 64)
    rgb = yuv420_to_rgb(packed, size)
    assert rgb.shape == picture.shape and rgb.dtype == np.uint8
    diff = np.abs(rgb.astype(int) - picture)
    # 2x2 chroma subsampling blurs colour edges; whole-picture error stays small and channels stay in place.
    assert diff.mean() < 3.0
    np.testing.assert_allclose(rgb.reshape(-1, 3).mean(0), picture.reshape(-1, 3).mean(0), atol=1.5)


def test_main_and_lores_streams_with_box_mapping(camera, labelled):
    picture, region = labelled
    with open_source("picamera", size=(1280, 720), lores=(320, 240)) as source:
        frame = first_frame(source)
        cam = source.camera._camera._cam
        assert cam.config["main"] == {"size": (1280, 720), "format": "BGR888"}
        assert cam.config["lores"] == {"size": (320, 240), "format": "YUV420"}
    assert frame.image.shape == (720, 1280, 3) and frame.lores.shape == (240, 320, 3)
    assert frame.detector_image is frame.lores

    # The detector finds the number on lores; the reader cuts it from main. Same field of view, so the
    # mapped box must show the same thing: compare both 64x64 regions.
    h, w = picture.shape[:2]
    on_lores = Box(region.left * 320 / w, region.top * 240 / h, region.width * 320 / w, region.height * 240 / h)
    on_main = frame.to_image(on_lores)
    want = Box(region.left * 1280 / w, region.top * 720 / h, region.width * 1280 / w, region.height * 720 / h)
    np.testing.assert_allclose(on_main, want, rtol=1e-9)
    from_lores = crop_region(frame.lores, on_lores).astype(int)
    from_main = crop_region(frame.image, on_main).astype(int)
    assert np.abs(from_main - from_lores).mean() < 12
    # 16:9 main over 4:3 lores: one scale for both axes would cut the wrong place.
    sx = 1280 / 320
    wrong = crop_region(frame.image, Box(*(v * sx for v in on_lores))).astype(int)
    assert np.abs(wrong - from_lores).mean() > 2 * np.abs(from_main - from_lores).mean()


def test_without_lores_one_stream_and_identity_mapping(camera):
    with open_source("picamera", size=(640, 480)) as source:
        frame = first_frame(source)
        assert source.camera._camera._cam.config["lores"] is None
    assert frame.lores is None and frame.detector_image is frame.image
    assert frame.to_image(Box(10, 20, 30, 40)) == Box(10, 20, 30, 40)


def test_picture_frames_have_no_lores(svhn):
    frame = first_frame(open_source(str(svhn / "recon" / "test" / "1.png")))
    assert frame.lores is None and frame.detector_image is frame.image


@pytest.mark.parametrize("mode, controls", [
    ("continuous", {"AfMode": 2}),
    ("auto", {"AfMode": 1, "AfTrigger": 0}),  # one focus sweep at start
    ("manual", {"AfMode": 0}),
    (None, {}),
])
def test_autofocus_mode(camera, mode, controls):
    with open_source("picamera", autofocus=mode) as source:
        assert source.camera._camera._cam.controls == controls


def test_autofocus_on_a_camera_without_it_is_a_warning(camera, monkeypatch, caplog):
    monkeypatch.setattr(camera.Picamera2, "camera_controls", {})  # Camera Module 2: fixed focus
    caplog.set_level(logging.WARNING, logger="edge_app")
    with open_source("picamera", autofocus="continuous") as source:
        assert source.camera._camera._cam.controls == {}
        first_frame(source)
    assert any("no autofocus" in r.message for r in caplog.records)


@pytest.mark.parametrize("settings, words", [
    ({"autofocus": "sharp"}, "one of manual, auto, continuous"),
    ({"lores": (321, 240)}, "even width and height"),
])
def test_bad_picamera_settings_are_one_line(camera, settings, words):
    with pytest.raises(SourceError, match=words) as err:
        open_source("picamera", **settings)
    assert "\n" not in str(err.value)


def test_camera_controls_reach_the_camera_and_shape_its_frames(camera, labelled, monkeypatch, caplog):
    """Focus, exposure, gain and brightness become libcamera controls; the flips the configuration's transform;
    the zoom the sensor crop, so the frame shows the sensor's centre at full size."""
    from edge_app.sources.base import CameraControls
    from tests.fakes import libcamera

    monkeypatch.setitem(sys.modules, "libcamera", libcamera)
    picture, _ = labelled
    caplog.set_level(logging.WARNING, logger="edge_app")
    controls = CameraControls(lens_position=0.25, hflip=True, vflip=True, exposure_us=20000, gain=40.0,
                              brightness=0.1, zoom=2.0)
    with open_source("picamera", size=(320, 240), controls=controls) as source:
        frame = first_frame(source)
        cam = source.camera._camera._cam
    assert cam.controls["LensPosition"] == 0.25 and cam.controls["AfMode"] == 0  # manual focus at 4 m
    assert cam.controls["ExposureTime"] == 20000 and cam.controls["AeEnable"] is False
    assert cam.controls["AnalogueGain"] == 16.0 and "AnalogueGain 40 is outside" in caplog.text  # this camera's max
    assert cam.controls["Brightness"] == 0.1 and cam.controls["ScalerCrop"] == (1152, 648, 2304, 1296)
    h, w = picture.shape[:2]
    centre = picture[::-1, ::-1][round(h / 4) : round(3 * h / 4), round(w / 4) : round(3 * w / 4)]
    expected = fake.scaled(np.ascontiguousarray(centre), (320, 240))
    assert np.abs(frame.image.astype(int) - expected).mean() < 1.0  # rotated 180 degrees, zoomed 2x


def test_a_zoom_past_the_sensor_or_a_missing_control_is_one_line(camera, monkeypatch, caplog):
    from edge_app.sources.base import CameraControls

    monkeypatch.setattr(camera.Picamera2, "camera_controls", {"AfMode": (0, 2, 0)})  # a camera without the others
    caplog.set_level(logging.WARNING, logger="edge_app")
    with open_source("picamera", size=(320, 240), controls=CameraControls(gain=2.0, brightness=0.5)) as source:
        first_frame(source)
    assert "camera controls AnalogueGain, Brightness: this camera does not have them; ignored" in caplog.text
    with pytest.raises(SourceError, match="zoom 12: the sensor's 4608x2592 holds at most 10.8x a 320x240 frame"):
        with open_source("picamera", size=(320, 240), controls=CameraControls(zoom=12.0)) as source:
            first_frame(source)


def test_the_app_takes_camera_controls_from_flags_and_refuses_a_zoom_past_the_sensor(labelled, tmp_path):
    from tests.test_edge_app import SHIPPED, app

    np.save(tmp_path / "frames.npy", labelled[0][None])
    env = {"FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy")}
    ok = app("--model", SHIPPED, "--source", "picamera", "--size", "320x240", "--roi", "0,0,100,100", "--hflip",
             "--vflip", "--zoom", "2", "--lens-position", "0.5", "--max-frames", "2", env=env)
    assert ok.returncode == 0, ok.stderr
    bad = app("--model", SHIPPED, "--source", "picamera", "--size", "320x240", "--roi", "0,0,100,100", "--zoom", "12",
              "--max-frames", "2", env=env)
    assert bad.returncode == 2 and "zoom 12: the sensor's" in bad.stderr and "Traceback" not in bad.stderr
