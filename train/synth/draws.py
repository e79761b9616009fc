"""One random draw that the generator needs in more than one place."""

import numpy as np


def between(rng: np.random.Generator, a: float, b: float) -> float:
    """Uniform between a and b in either order: what rng.uniform(a, b) drew before numpy 2.5 refused b < a.

    Same stream and same value as uniform's a + (b - a) * u, so frames made by older numpy stay identical.
    A bound can cross over where the frame is small (a sign wider than a 192x144 frame).
    """
    return a + (b - a) * rng.random()
