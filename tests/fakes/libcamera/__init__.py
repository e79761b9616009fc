"""A stand-in for libcamera's Python bindings (no Pi here): only what picamera2 configurations take from it."""


class Transform:
    """libcamera.Transform: the flips a configuration asks the ISP for."""

    def __init__(self, hflip: int = 0, vflip: int = 0, transpose: int = 0):
        self.hflip, self.vflip, self.transpose = hflip, vflip, transpose

    def __repr__(self) -> str:
        return f"<Transform hflip={self.hflip} vflip={self.vflip}>"
