"""A stand-in for picamera2 (no Pi camera here): serves frames from an .npy file of real pictures.

FAKE_PICAMERA_FRAMES: path of a (N, H, W, 3) uint8 array, served in a loop (RGB, as "BGR888" gives).
FAKE_PICAMERA_FAIL_AFTER: after this many frames every capture and every reopen fails (camera unplugged).
"""

import os

import numpy as np

_served = 0


class Picamera2:
    def __init__(self, camera_num=0):
        if _failing():
            raise RuntimeError("Camera __init__ sequence did not complete.")
        self.frames = np.load(os.environ["FAKE_PICAMERA_FRAMES"])

    def create_preview_configuration(self, main=None, **kwargs):
        assert main["format"] == "BGR888"
        return {"main": main}

    def configure(self, config):
        self.size = config["main"]["size"]

    def start(self):
        pass

    def capture_array(self, name="main", wait=None):
        global _served
        if _failing():
            raise RuntimeError("Device timeout detected")
        frame = self.frames[_served % len(self.frames)]
        _served += 1
        return frame

    def wait(self, job, timeout=None):
        return job

    def stop(self):
        pass

    def close(self):
        pass


def _failing() -> bool:
    limit = os.environ.get("FAKE_PICAMERA_FAIL_AFTER")
    return limit is not None and _served >= int(limit)
