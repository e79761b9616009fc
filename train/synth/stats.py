"""Label and box statistics of real SVHN that the generator draws from.

The constants come from the full SVHN train split (format1_annotations/train_digitStruct.csv, 33,402
pictures, 73,257 boxes); `measure(path)` recomputes them from that file.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from edge_app.annotations import csv_labels

# P(number length = 1..5). Real train split: 1: .15379, 2: .54278, 3: .26019, 4: .04293, 5: .00027,
# 6: .00003; the single 6-digit picture is folded into 5 because the model reads at most 5 digits.
LENGTH_P = np.array([0.15379, 0.54278, 0.26019, 0.04293, 0.00030])

# P(digit) for the first digit (house numbers seldom start with 0) and for the others.
FIRST_DIGIT_P = np.array([0.0025, 0.2767, 0.1892, 0.1302, 0.1051, 0.0847, 0.0645, 0.0562, 0.0475, 0.0434])
OTHER_DIGIT_P = np.array([0.1220, 0.1159, 0.1070, 0.1041, 0.0990, 0.1017, 0.0897, 0.0933, 0.0868, 0.0805])

# Box height in picture pixels is log-normal: geometric mean 30.1 px, sigma of log 0.473
# (percentiles 5/50/95: 14, 29, 68 px). Clipped to keep pictures small and readable.
BOX_HEIGHT_LOG_MEAN = math.log(30.1)
BOX_HEIGHT_LOG_SIGMA = 0.473
BOX_HEIGHT_RANGE = (10.0, 90.0)

# Box width / height: percentiles 5/25/50/75/95 = 0.28/0.40/0.48/0.58/0.71; gap between neighbouring
# boxes / height: -0.15/-0.05/0.00/0.05/0.14 (boxes mostly abut); all boxes of a number share a height.


# `--focus` tilts these toward the measured mistakes: 3- and 4-digit numbers (70% and 23% read) and the
# digits 1 and 7 (7 -> 1 is the commonest confusion); 2-digit numbers, already read well, give way.
FOCUS_LENGTH_TILT = np.array([1.0, 0.75, 1.5, 3.5, 3.0])
FOCUS_DIGIT_TILT = np.array([1.0, 1.4, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 1.0, 1.0])


def sample_digits(rng: np.random.Generator, focus: bool = False) -> list[int]:
    """A house number as digits 0..9, length and digits drawn from the real train frequencies (tilted by `focus`)."""
    lp, fp, op = (LENGTH_P * FOCUS_LENGTH_TILT, FIRST_DIGIT_P * FOCUS_DIGIT_TILT, OTHER_DIGIT_P * FOCUS_DIGIT_TILT) \
        if focus else (LENGTH_P, FIRST_DIGIT_P, OTHER_DIGIT_P)
    length = 1 + int(rng.choice(len(lp), p=lp / lp.sum()))
    first = int(rng.choice(10, p=fp / fp.sum()))
    rest = rng.choice(10, size=length - 1, p=op / op.sum())
    return [first, *(int(d) for d in rest)]


def sample_box_height(rng: np.random.Generator) -> float:
    """A digit box height in picture pixels, as in real SVHN pictures."""
    h = math.exp(rng.normal(BOX_HEIGHT_LOG_MEAN, BOX_HEIGHT_LOG_SIGMA))
    return float(np.clip(h, *BOX_HEIGHT_RANGE))


def measure(path) -> dict:
    """Recompute the tables above from an SVHN digitStruct.csv (name;label;top;left;height;width)."""
    numbers = [[(d, b.height) for d, b in zip(a.digits, a.boxes)] for a in csv_labels(path).annotations]
    lengths = Counter(len(v) for v in numbers)
    first = Counter(v[0][0] for v in numbers)
    other = Counter(d for v in numbers for d, _ in v[1:])
    logs = np.log([h for v in numbers for _, h in v])
    return {
        "length_p": {k: lengths[k] / len(numbers) for k in sorted(lengths)},
        "first_digit_p": [first[d] / sum(first.values()) for d in range(10)],
        "other_digit_p": [other[d] / sum(other.values()) for d in range(10)],
        "box_height_geo_mean": float(np.exp(logs.mean())),
        "box_height_log_sigma": float(logs.std()),
    }
