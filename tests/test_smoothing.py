"""k-of-n smoothing of per-frame readings."""

import pytest

from edge_app.smoothing import Smoother


def feed(smoother, readings):
    return [smoother.update(r) for r in readings]


def test_reports_once_a_reading_wins_k_of_n():
    s = Smoother(k=3, n=5)
    assert feed(s, ["12", None, "12", "13", "12", "12", "12"]) == [None, None, None, None, "12", None, None]


def test_no_report_when_votes_fall_out_of_the_window():
    s = Smoother(k=3, n=5)
    # "7" is seen 3 times but never 3 times within 5 consecutive frames
    assert feed(s, ["7", None, None, None, "7", None, None, None, "7"]) == [None] * 9


def test_reports_on_change_and_never_repeats():
    s = Smoother(k=2, n=3)
    out = feed(s, ["231", "231", "231", None, None, None, "231", "231", "45", "45", "231", "231"])
    assert out == [None, "231", None, None, None, None, None, None, None, "45", None, "231"]


def test_none_frames_never_report():
    s = Smoother(k=1, n=3)
    assert feed(s, [None, None, None]) == [None, None, None]


def test_k1_n1_reports_every_change():
    s = Smoother(k=1, n=1)
    assert feed(s, ["1", "1", "2", None, "2", "1"]) == ["1", None, "2", None, None, "1"]


@pytest.mark.parametrize("k, n", [(0, 3), (4, 3), (1, 0)])
def test_rejects_impossible_votes(k, n):
    with pytest.raises(ValueError, match="1 <= k <= n"):
        Smoother(k=k, n=n)
