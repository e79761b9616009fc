"""Training augmentation: seeded, shaped by the contract, and with photometric changes off a plain crop."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from edge_app.contract import INPUT_SIZE, REGION_SIZE  # noqa: E402
from train.augment import augment_batch  # noqa: E402


def test_augment_batch_is_seeded_and_crops_like_the_contract():
    rng = np.random.default_rng(0)
    regions = rng.integers(0, 256, (6, REGION_SIZE, REGION_SIZE, 3), dtype=np.uint8)
    seed = tf.constant([1, 2], tf.int64)
    out = augment_batch(regions, seed).numpy()
    assert out.shape == (6, INPUT_SIZE, INPUT_SIZE, 3) and out.dtype == np.uint8
    assert np.array_equal(out, augment_batch(regions, seed).numpy())  # same seed, same batch
    assert not np.array_equal(out, augment_batch(regions, tf.constant([1, 3], tf.int64)).numpy())
    # Without the photometric part each input is a 54x54 window of its own 64x64 region, as contract.random_crop.
    plain = augment_batch(regions, seed, photometric=False).numpy()
    span = REGION_SIZE - INPUT_SIZE + 1
    for x, region in zip(plain, regions):
        windows = (region[y:y + INPUT_SIZE, c:c + INPUT_SIZE] for y in range(span) for c in range(span))
        assert any(np.array_equal(x, w) for w in windows)
