"""Model builders by architecture name: readers take 54x54x3 uint8 pixels and end in six named heads;
the detector takes a whole downscaled frame and ends in a heatmap and boxes."""

from ..config import ARCH_NAMES
from .detector import build_detector
from .edge import build_edge
from .goodfellow import build_goodfellow

ARCHS = {"edge": build_edge, "goodfellow": build_goodfellow, "detector": build_detector}
assert tuple(ARCHS) == ARCH_NAMES, "train/config.py ARCH_NAMES must list the builders"


def build_model(arch: str, dropout: float | None = None):
    """Build the named architecture; raises ValueError for an unknown name."""
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    return ARCHS[arch]() if dropout is None else ARCHS[arch](dropout=dropout)
