"""Learning-rate schedules against their closed forms."""

import math

import pytest

from mlp_engine import make_schedule


def test_constant():
    lr_at = make_schedule("constant", 0.1, steps_per_epoch=10, epochs=3)
    assert {lr_at(s) for s in range(30)} == {0.1}


def test_step_halves_every_two_epochs():
    lr_at = make_schedule("step", 0.1, steps_per_epoch=10, epochs=6, step_size=2, gamma=0.5)
    assert [lr_at(e * 10) for e in range(6)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert lr_at(19) == pytest.approx(0.1)  # constant within the period


def test_exponential_decays_by_gamma_per_epoch():
    lr_at = make_schedule("exponential", 0.1, steps_per_epoch=4, epochs=5, gamma=0.9)
    assert lr_at(8) == pytest.approx(0.1 * 0.9**2)
    assert lr_at(2) == pytest.approx(0.1 * 0.9**0.5)


def test_cosine_runs_from_base_to_min():
    lr_at = make_schedule("cosine", 0.1, steps_per_epoch=10, epochs=10, min_lr=0.001)
    assert lr_at(0) == pytest.approx(0.1)
    assert lr_at(50) == pytest.approx(0.001 + 0.099 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_at(100) == pytest.approx(0.001)


def test_linear_warmup_then_cosine_from_the_peak():
    lr_at = make_schedule("cosine", 0.1, steps_per_epoch=10, epochs=5, warmup_epochs=1)
    assert [lr_at(s) for s in (0, 4, 9)] == pytest.approx([0.01, 0.05, 0.1])
    assert lr_at(10) == pytest.approx(0.1)  # cosine progress starts after warmup
    assert lr_at(30) == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 0.5)))


@pytest.mark.parametrize(
    "args, message",
    [
        (("linear", 0.1), "unknown schedule"),
        (("constant", -0.1), "learning rate must be > 0"),
        (("step", 0.1, {"gamma": 1.5}), "gamma must be in"),
        (("constant", 0.1, {"warmup_epochs": 9}), "warmup_epochs must be in"),
    ],
)
def test_bad_schedule_arguments(args, message):
    name, lr, *extra = args
    with pytest.raises(ValueError, match=message):
        make_schedule(name, lr, steps_per_epoch=10, epochs=3, **(extra[0] if extra else {}))
