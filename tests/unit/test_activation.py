"""The ACT-R formulas against hand-computed values and the literature's worked numbers."""

from __future__ import annotations

import math

import pytest
from aurora_lsp.context.activation import (
    ActivationParameters,
    associative_strength,
    base_floor,
    base_level,
    context_match,
    hop_factor,
    proximity,
)


def test_base_level_is_the_log_of_decayed_uses() -> None:
    # two uses, 10 s and 100 s ago, d = 0.5: ln(10^-0.5 + 100^-0.5) = ln(0.316228 + 0.1)
    assert base_level([10.0, 100.0], decay=0.5) == pytest.approx(-0.876_523, abs=1e-6)
    # one use 1000 s ago: ln(1000^-0.5) = -0.5 ln 1000
    assert base_level([1000.0]) == pytest.approx(-3.453_878, abs=1e-6)
    # one use a second ago is activation 0, whatever the decay
    assert base_level([1.0], decay=0.8) == pytest.approx(0.0)


def test_base_level_grows_with_frequency_and_recency() -> None:
    once = base_level([60.0])
    twice = base_level([60.0, 120.0])
    recent = base_level([5.0])
    assert once is not None and twice is not None and recent is not None
    assert twice > once
    assert recent > once
    # n uses at the same age add ln(n): the frequency half of the power law
    assert base_level([60.0] * 4) == pytest.approx(once + math.log(4))


def test_anderson_lebiere_optimized_learning_agrees_for_evenly_spaced_uses() -> None:
    # Uses evenly spread over a lifetime L: B ≈ ln(n / (1 - d)) - d ln L (Anderson & Lebiere 1998, eq. 4.2)
    lifetime, uses, decay = 10_000.0, 200, 0.5
    ages = [lifetime * (k + 0.5) / uses for k in range(uses)]
    exact = base_level(ages, decay)
    approximation = math.log(uses / (1 - decay)) - decay * math.log(lifetime)
    assert exact == pytest.approx(approximation, abs=0.05)


def test_weights_scale_each_use() -> None:
    weighted = base_level([100.0], weights=[0.2])
    assert weighted == pytest.approx(math.log(0.2) - 0.5 * math.log(100.0))


def test_never_used_has_no_base_level_and_the_floor_is_a_week_old_use() -> None:
    assert base_level([]) is None
    assert base_floor(ActivationParameters()) == pytest.approx(-0.5 * math.log(7 * 24 * 3600))
    assert base_floor(ActivationParameters()) < base_level([24 * 3600.0])  # type: ignore[operator]


def test_ages_below_a_second_count_as_one_second() -> None:
    assert base_level([0.0]) == base_level([1.0]) == 0.0


def test_associative_strength_is_the_fan_effect() -> None:
    # S_ji = S - ln(fan): Anderson's fan experiments with S = 2: fan 1, 2, 3
    assert associative_strength(1, 2.0) == pytest.approx(2.0)
    assert associative_strength(2, 2.0) == pytest.approx(2.0 - 0.693_147, abs=1e-6)
    assert associative_strength(3, 2.0) == pytest.approx(0.901_388, abs=1e-6)
    # a hub linked to more than e^S chunks primes none of them
    assert associative_strength(10, 2.0) == 0.0
    assert associative_strength(0, 2.0) == pytest.approx(2.0)


def test_hops_and_proximity_decay() -> None:
    assert hop_factor(1, 0.5) == 1.0
    assert hop_factor(3, 0.5) == 0.25
    assert proximity(1, 4.0) == 1.0
    assert proximity(5, 4.0) == pytest.approx(0.5)
    assert proximity(9, 4.0) == pytest.approx(0.25)


def test_context_match_is_relative_to_the_best_with_an_exact_name_bonus() -> None:
    assert context_match(-8.0, -8.0, False, 2.0, 1.0) == pytest.approx(2.0)
    assert context_match(-2.0, -8.0, False, 2.0, 1.0) == pytest.approx(0.5)
    assert context_match(-2.0, -8.0, True, 2.0, 1.0) == pytest.approx(1.5)
    assert context_match(-2.0, 0.0, False, 2.0, 1.0) == 0.0


def test_parameters_are_named_after_the_model_with_its_defaults() -> None:
    parameters = ActivationParameters()
    assert parameters.decay == 0.5
    assert parameters.source_activation == 1.0
    assert parameters.without(spreading_weight=0.0).spreading_weight == 0.0
