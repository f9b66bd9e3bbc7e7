"""Values made safe for strict JSON readers, such as the browser's ``JSON.parse``.

``json.dumps`` writes a non-finite float as ``NaN`` or ``Infinity``, which is not JSON:
the live panel's page and most consumers of ``movierec report --json`` reject the
whole document. The analysis leaves undefined numbers as NaN where that is the honest
result, so everything it hands out as JSON passes through :func:`json_safe` first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def json_safe(value: Any) -> Any:
    """``value`` with NaN and ±inf as None, numpy scalars as Python ones, mappings as
    dicts and tuples as lists, recursively; anything else unchanged."""
    if isinstance(value, Mapping):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
