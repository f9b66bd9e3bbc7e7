"""json_safe: what the analysis and the live panel hand out parses as strict JSON."""

from __future__ import annotations

import json
import math

import numpy as np

from movierec.jsonsafe import json_safe


def strict_loads(text: str):
    """json.loads that rejects NaN and Infinity, as a browser's JSON.parse does."""

    def reject(constant: str):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=reject)


def test_non_finite_floats_become_none_at_any_depth():
    value = {"a": math.nan, "b": [1.0, math.inf, (-math.inf, 2.5)], "c": {"d": {"e": float("nan")}}}
    assert json_safe(value) == {"a": None, "b": [1.0, None, [None, 2.5]], "c": {"d": {"e": None}}}


def test_tuples_become_lists_and_other_values_are_kept():
    value = {"ci": (0.1, 0.2), "n": 3, "ok": True, "name": "B", "missing": None}
    assert json_safe(value) == {"ci": [0.1, 0.2], "n": 3, "ok": True, "name": "B", "missing": None}


def test_numpy_scalars_become_python_numbers():
    value = {"p": np.float64("nan"), "lift": np.float32(0.5), "n": np.int64(7), "alarm": np.bool_(True)}
    safe = json_safe(value)
    assert safe == {"p": None, "lift": 0.5, "n": 7, "alarm": True}
    assert [type(v) for v in safe.values()] == [type(None), float, int, bool]


def test_the_result_parses_as_strict_json():
    value = {"rows": [{"x": np.float64("inf"), "y": (np.int64(1), math.nan)}]}
    assert strict_loads(json.dumps(json_safe(value))) == {"rows": [{"x": None, "y": [1, None]}]}
