"""The solve-cost model the scheduler and the sessions' start rule predict with."""

from __future__ import annotations

import pytest

from avatar_omnitalker.realtime.cost import SolveCost

# the built-in model on 2 CPU cores, nfe 7 (benchmarks/solve_cost.py): (requests, longest, seconds)
MEASURED = [(1, 12, 0.550), (1, 30, 0.626), (1, 51, 0.677), (1, 71, 0.783), (1, 120, 0.985)]


def test_nothing_is_predicted_before_a_solve_is_seen():
    assert SolveCost().predict(1, 40) is None


def test_exact_costs_are_recovered():
    cost = SolveCost()
    for n, longest in ((1, 10), (1, 80), (3, 40), (2, 120)):
        cost.observe(n, longest, n * (0.3 + 0.005 * longest))
    assert cost.per_request == pytest.approx(0.3) and cost.per_weight == pytest.approx(0.005)
    assert cost.predict(4, 60) == pytest.approx(4 * (0.3 + 0.005 * 60))


def test_the_measured_cpu_costs_predict_a_pair_better_than_a_cost_per_character():
    """The form this replaced (seconds per request x character) put a 12-character chunk at a
    tenth of a 120-character one's cost; it is more than half."""
    cost = SolveCost(decay=0.999)
    for n, longest, seconds in MEASURED:
        cost.observe(n, longest, seconds)
    assert cost.predict(1, 12) == pytest.approx(0.550, rel=0.1)
    assert cost.predict(2, 120) == pytest.approx(2.05, rel=0.1), "two requests, never seen (measured 2.05 s)"
    per_char = sum(s for _, _, s in MEASURED) / sum(n * w for n, w, _ in MEASURED)
    assert abs(per_char * 12 - 0.550) > 3 * abs(cost.predict(1, 12) - 0.550)


def test_one_length_seen_predicts_a_cost_per_request():
    cost = SolveCost()
    for _ in range(3):
        cost.observe(1, 40, 0.5)
    assert cost.predict(1, 40) == pytest.approx(0.5)
    assert cost.predict(2, 40) == pytest.approx(1.0)
    assert cost.predict(1, 80) == pytest.approx(0.5), "most of a solve's cost does not grow with the text"


def test_costs_stay_non_negative_and_follow_the_newest_load():
    cost = SolveCost()
    cost.observe(1, 10, 1.0)
    cost.observe(1, 100, 0.5)  # noise: a longer text solved faster
    assert cost.per_request >= 0 and cost.per_weight >= 0
    assert cost.predict(1, 100) > 0
    for _ in range(12):  # the process slows down twice over (a renderer starts beside it)
        cost.observe(1, 10, 2.0)
        cost.observe(1, 100, 4.0)
    assert cost.predict(1, 100) == pytest.approx(4.0, rel=0.02)


def test_a_decay_outside_its_range_is_refused():
    with pytest.raises(ValueError, match="decay must be in"):
        SolveCost(decay=1.0)
