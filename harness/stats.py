"""Statistics for honest numbers: Wilson intervals (more in the reports issue)."""

from __future__ import annotations

import math


def wilson_interval(failures: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``failures / n`` (``(0, 1)`` when ``n == 0``)."""
    if n <= 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    ci = binomtest(failures, n).proportion_ci(confidence_level=confidence, method="wilson")
    return max(0.0, float(ci.low)), min(1.0, float(ci.high))


def rounded(value: float | None, digits: int = 6) -> float | None:
    """Round for stable JSON output (``None`` and NaN pass through as ``None``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)
