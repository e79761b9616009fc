"""Fusion of the reader's six heads over a track's views (edge_app/fusion.py), on made-up head outputs."""

import numpy as np
import pytest

from edge_app import fusion
from edge_app.decode import decode
from edge_app.fusion import Evidence, View, at_edge, is_new


def heads(number: str, sure: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Length (7,) and digit (5, 11) probabilities that say `number` with probability `sure` in each head."""
    length = np.full(7, (1 - sure) / 6)
    length[len(number)] = sure
    digits = np.full((5, 11), (1 - sure) / 10)
    for i in range(5):
        digits[i, int(number[i]) if i < len(number) else 10] = sure
    return length, digits


def test_one_view_fuses_to_its_own_reading():
    evidence = Evidence()
    assert evidence.reading() is None
    evidence.add(*heads("289", 0.8), weight=1.0)
    fused, alone = evidence.reading(), decode(*heads("289", 0.8))
    assert fused.text == alone.text == "289"
    assert fused.confidence == pytest.approx(alone.confidence, rel=1e-4)


def test_agreeing_views_grow_sure_but_count_as_at_most_max_views():
    one = decode(*heads("41", 0.7)).confidence
    evidence = Evidence()
    for _ in range(3):
        evidence.add(*heads("41", 0.7), weight=1.0)
    three = evidence.reading().confidence
    assert three > one
    for _ in range(50):
        evidence.add(*heads("41", 0.7), weight=1.0)
    capped = Evidence()
    for _ in range(int(fusion.MAX_VIEWS)):
        capped.add(*heads("41", 0.7), weight=1.0)
    # 53 views of the same glare are no surer than MAX_VIEWS of them
    assert evidence.reading().confidence == pytest.approx(capped.reading().confidence, rel=1e-6)


def test_a_few_partial_views_do_not_shorten_a_sure_number():
    evidence = Evidence()
    for _ in range(6):
        evidence.add(*heads("289", 0.9), weight=1.0)
    for _ in range(3):  # a pole hides the 89: the reader says "2", sure of it
        evidence.add(*heads("2", 0.95), weight=View(0.9, 0.4, False, True).weight())
    assert evidence.reading().text == "289"


def test_weights_of_views_that_must_not_count():
    assert View(0.9, 1.0, at_edge=True, new=True).weight() == 0  # the number may run out of the frame
    assert View(0.9, 1.0, at_edge=False, new=False).weight() == 0  # the same picture again
    assert View(0.9, 1.0, False, True).weight() == pytest.approx(0.9)
    assert View(0.9, 0.4, False, True).weight() == pytest.approx(0.9 * (0.4 / fusion.NARROWER) ** 3)
    evidence = Evidence()
    evidence.add(*heads("7"), weight=0.0)
    assert evidence.views == 0 and evidence.reading() is None


def test_fade_keeps_a_share_of_the_evidence():
    evidence = Evidence()
    for _ in range(4):
        evidence.add(*heads("15", 0.9), weight=1.0)
    evidence.fade(0.25)
    assert evidence.weight == pytest.approx(1.0)
    evidence.add(*heads("159", 0.9), weight=1.0)  # the whole number now shows
    evidence.add(*heads("159", 0.9), weight=1.0)  # two views outweigh four faded ones
    assert evidence.reading().text == "159"
    unfaded = Evidence()
    for number in ["15"] * 4 + ["159"] * 2:
        unfaded.add(*heads(number, 0.9), weight=1.0)
    assert unfaded.reading().text == "15"


def test_a_repeated_picture_is_not_new_but_sensor_noise_is():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (54, 54, 3), dtype=np.uint8)
    assert is_new(pixels, None)
    assert not is_new(pixels.copy(), pixels)
    noisy = np.clip(pixels + rng.normal(0, 2.5, pixels.shape), 0, 255).astype(np.uint8)
    assert is_new(noisy, pixels)


def test_at_edge_is_a_digit_width_from_the_side():
    assert at_edge((600, 100, 30, 50), 640, 480)  # 10 px from the right side, digits 50 px tall
    assert not at_edge((500, 100, 60, 50), 640, 480)
    assert at_edge((100, 0, 60, 50), 640, 480)
