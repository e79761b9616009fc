"""Test-time views: read a region through a few shifted and scaled crops and average the heads.

The views are the contract's (contract.TTA_VIEWS); the cost grows about linearly with their number.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .contract import tta_views
from .decode import Reading, decode, rescore

Probabilities = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def average_heads(length_probs: np.ndarray, digit_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 7) and (n, 5, 11) probabilities of n views -> their mean (7,) and (5, 11), still distributions."""
    return np.mean(length_probs, axis=0), np.mean(digit_probs, axis=0)


def view_probabilities(probabilities: Probabilities, region: np.ndarray, views: int) -> tuple[np.ndarray, np.ndarray]:
    """A model's averaged head probabilities over the first `views` test-time views of a 64x64 region."""
    outs = [probabilities(v) for v in tta_views(region, views)]
    return average_heads(np.stack([o[0] for o in outs]), np.stack([o[1] for o in outs]))


def read_region(probabilities: Probabilities, region: np.ndarray, views: int = 1) -> Reading:
    """The decoded reading of a 64x64 region through `views` test-time views."""
    return decode(*view_probabilities(probabilities, region, views))


def weighed_reading(probabilities: Probabilities, regions: list[np.ndarray], views: int) -> Reading:
    """Behind the detector: the centre views of 64x64 regions read (heads averaged), and the average over all
    `views` views of each gives that reading its confidence. Views shift a detector's imprecise box further, so
    their averaged reading is right less often, but their agreement still says how sure the centre's is
    (docs/detector.md).
    Above 0.5 the confidence can only belong to the averaged heads' own best reading, so a gate over 0.5 passes
    a subset of what the averaged reading would pass, never a different number."""
    outs = [probabilities(v) for r in regions for v in tta_views(r, views)]
    centre = outs[::views]
    reading = decode(*average_heads(np.stack([o[0] for o in centre]), np.stack([o[1] for o in centre])))
    if views == 1:
        return reading
    return rescore(*average_heads(np.stack([o[0] for o in outs]), np.stack([o[1] for o in outs])), reading)
