"""The training crops follow the contract: TensorFlow's batch crop is contract.crop_at, over random_crop's range."""

import numpy as np

from edge_app.contract import CROP_RANGE, INPUT_SIZE, REGION_SIZE, center_crop, crop_at, random_crop


def test_tensorflow_training_crop_is_the_contract_crop():
    import tensorflow as tf

    from train.augment import augment_batch, crop_batch, crop_offsets

    regions = np.random.default_rng(0).integers(0, 256, (400, REGION_SIZE, REGION_SIZE, 3), dtype=np.uint8)
    off = crop_offsets(len(regions), tf.constant([7, 3], tf.int64))
    crops = crop_batch(tf.constant(regions), off).numpy()
    off = off.numpy()
    for region, (top, left), crop in zip(regions, off, crops):
        assert np.array_equal(crop, crop_at(region, int(top), int(left)))
    # The same window range as contract.random_crop: every top/left 0..CROP_RANGE, nothing outside it.
    span = range(CROP_RANGE + 1)
    windows = {crop_at(regions[0], y, x).tobytes(): (y, x) for y in span for x in span}
    rng = np.random.default_rng(1)
    drawn = np.array([windows[random_crop(regions[0], rng).tobytes()] for _ in range(400)])
    assert set(np.unique(drawn)) == set(np.unique(off)) == set(range(CROP_RANGE + 1))
    # Without photometric augmentation, training inputs are exactly these contract crops.
    plain = augment_batch(tf.constant(regions[:8]), tf.constant([1, 2], tf.int64), photometric=False).numpy()
    assert all(any(np.array_equal(p, crop_at(r, y, x)) for y in range(CROP_RANGE + 1) for x in range(CROP_RANGE + 1))
               for p, r in zip(plain, regions[:8]))
    assert plain.shape == (8, INPUT_SIZE, INPUT_SIZE, 3)
    assert np.array_equal(center_crop(regions[0]), crop_at(regions[0], CROP_RANGE // 2, CROP_RANGE // 2))


def test_augment_batch_is_seeded():
    import tensorflow as tf

    from train.augment import augment_batch

    regions = np.random.default_rng(0).integers(0, 256, (6, REGION_SIZE, REGION_SIZE, 3), dtype=np.uint8)
    seed = tf.constant([1, 2], tf.int64)
    out = augment_batch(regions, seed).numpy()
    assert out.shape == (6, INPUT_SIZE, INPUT_SIZE, 3) and out.dtype == np.uint8
    assert np.array_equal(out, augment_batch(regions, seed).numpy())  # same seed, same batch
    assert not np.array_equal(out, augment_batch(regions, tf.constant([1, 3], tf.int64)).numpy())
