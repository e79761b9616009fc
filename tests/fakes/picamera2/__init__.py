"""A stand-in for picamera2 (no Pi camera here) that behaves like it where the app depends on it.

Serves frames from an .npy file of real pictures, scaled to the configured main size (as the ISP scales
the sensor crop), and a lores stream as picamera2 gives it: YUV420 (I420) with the rows padded to a
64-byte stride, both streams from one request.

FAKE_PICAMERA_FRAMES: path of a (N, H, W, 3) uint8 array, served in a loop (RGB, as "BGR888" gives).
FAKE_PICAMERA_FAIL_AFTER: after this many frames every capture and every reopen fails (camera unplugged).
"""

import os

import numpy as np
from PIL import Image

_served = 0
_metadata_hooks = []  # the stand-in AI Camera (picamera2.devices.IMX500) adds its network's outputs per frame


def rgb_to_yuv420(rgb: np.ndarray, align: int = 64) -> np.ndarray:
    """(h, w, 3) RGB -> picamera2's YUV420 array (h * 3/2, stride): Pillow's full-range BT.601 YCbCr, 2x2 chroma."""
    h, w = rgb.shape[:2]
    stride = -(-w // align) * align
    ycc = np.asarray(Image.fromarray(rgb).convert("YCbCr")).astype(np.float32)
    out = np.zeros((h * 3 // 2, stride), np.uint8)
    out[:h, :w] = ycc[..., 0].round()
    halves = out.reshape(h * 3, stride // 2)  # each array row holds two chroma rows of stride/2
    for plane, channel in ((0, 1), (1, 2)):
        chroma = ycc[..., channel].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).round()
        start = 2 * h + plane * (h // 2)
        halves[start : start + h // 2, : w // 2] = chroma
    return out


def scaled(picture: np.ndarray, size) -> np.ndarray:
    """The picture at (width, height): the same field of view, stretched when the aspect ratio differs."""
    if picture.shape[1::-1] == tuple(size):
        return picture
    return np.asarray(Image.fromarray(picture).resize(tuple(size), Image.BILINEAR))


class CompletedRequest:
    def __init__(self, arrays, metadata=None):
        self.arrays = arrays
        self.metadata = metadata or {}

    def make_array(self, name):
        return self.arrays[name]

    def get_metadata(self):
        return self.metadata

    def release(self):
        self.arrays = None


class Picamera2:
    # What an imx708 (Camera Module 3) reports, for the controls the app sets: (min, max, default)
    camera_controls = {"AfMode": (0, 2, 0), "AfTrigger": (0, 1, 0), "LensPosition": (0.0, 15.0, 1.0),
                       "ExposureTime": (26, 112015443, None), "AeEnable": (False, True, None),
                       "AnalogueGain": (1.0, 16.0, None), "Brightness": (-1.0, 1.0, 0.0),
                       "ScalerCrop": ((0, 0, 64, 64), (0, 0, 4608, 2592), None)}
    camera_properties = {"ScalerCropMaximum": (0, 0, 4608, 2592), "PixelArraySize": (4608, 2592)}

    @staticmethod
    def global_camera_info():
        return [{"Model": "imx708", "Location": 2, "Rotation": 180, "Id": "/base/soc/i2c0mux/i2c@1/imx708@1a",
                 "Num": 0}]

    def __init__(self, camera_num=0):
        if _failing():
            raise RuntimeError("Camera __init__ sequence did not complete.")
        self.frames = np.load(os.environ["FAKE_PICAMERA_FRAMES"])
        self.controls = {}

    def create_preview_configuration(self, main=None, lores=None, transform=None, **kwargs):
        assert main["format"] == "BGR888"
        assert lores is None or lores["format"] == "YUV420"  # Pi 4 (VC4) allows nothing else for lores
        return {"main": main, "lores": lores, "transform": transform}

    def configure(self, config):
        self.config = config

    def start(self):
        pass

    def set_controls(self, controls):
        self.controls.update(controls)

    def capture_request(self, wait=None):
        assert wait is False
        return self._next  # a job: wait() runs it

    def wait(self, job, timeout=None):
        return job()

    def _next(self):
        global _served
        if _failing():
            raise RuntimeError("Device timeout detected")
        index = _served % len(self.frames)
        picture = self._isp(self.frames[index])
        _served += 1
        metadata = {}
        for hook in _metadata_hooks:
            metadata.update(hook(index))
        arrays = {"main": scaled(picture, self.config["main"]["size"])}
        if self.config["lores"]:
            arrays["lores"] = rgb_to_yuv420(scaled(picture, self.config["lores"]["size"]))
        return CompletedRequest(arrays, metadata)

    def _isp(self, picture: np.ndarray) -> np.ndarray:
        """The flips of the configuration's transform, then the ScalerCrop control's part of the sensor (the
        picture stands for the whole ScalerCropMaximum)."""
        t = self.config.get("transform")
        if t is not None:
            picture = picture[:: -1 if t.vflip else 1, :: -1 if t.hflip else 1]
        crop = self.controls.get("ScalerCrop")
        if crop:
            x, y, w, h = crop
            full_w, full_h = self.camera_properties["ScalerCropMaximum"][2:]
            ph, pw = picture.shape[:2]
            picture = picture[round(y / full_h * ph) : round((y + h) / full_h * ph),
                              round(x / full_w * pw) : round((x + w) / full_w * pw)]
        return np.ascontiguousarray(picture)

    def stop(self):
        pass

    def close(self):
        pass


def _failing() -> bool:
    limit = os.environ.get("FAKE_PICAMERA_FAIL_AFTER")
    return limit is not None and _served >= int(limit)
