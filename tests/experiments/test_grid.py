from __future__ import annotations

import pytest

from clearlake.experiments.grid import GridError, parse_grid


def test_grid_is_the_cartesian_product_with_typed_values() -> None:
    grid = parse_grid(["max_depth=3,5", "learning_rate=0.1", "loss=absolute_error"])
    assert grid == [
        {"max_depth": 3, "learning_rate": 0.1, "loss": "absolute_error"},
        {"max_depth": 5, "learning_rate": 0.1, "loss": "absolute_error"},
    ]
    assert parse_grid([]) == [{}]
    assert parse_grid(["early_stopping=true"]) == [{"early_stopping": True}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["max_depth"], "--param 'max_depth' is malformed"),
        (["=3"], "is malformed"),
        (["max depth=3"], "is malformed"),
        (["a=1", "a=2"], "--param a is given twice"),
        (
            ["a=1,2,3,4,5", "b=1,2,3,4"],
            "The grid has 20 combinations; an experiment may launch at most 16",
        ),
    ],
)
def test_bad_params_are_refused(params: list[str], message: str) -> None:
    with pytest.raises(GridError, match=message):
        parse_grid(params)
