"""Size limits on everything a user hands the harness (files, YAML documents, spec cases,
template output), each with the environment variable that raises it.

Limits are read from the environment when they are checked (no module state), so
``HARNESS_MAX_DATA_MB=4096 harness run ...`` raises one for one command. The defaults, and what
each limit protects, are listed in ``README.md`` ("Limits").
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from harness.errors import UserError


@dataclass(frozen=True)
class Limit:
    """One limit: its default, its unit, and the environment variable that overrides it."""

    env: str
    """The environment variable that raises (or lowers) the limit."""
    default: int
    unit: str
    """``"MiB"`` for file sizes (``value`` is then in bytes), else the counted unit."""
    what: str
    """What the limit applies to, for error messages."""

    def value(self) -> int:
        """The limit in force: the environment variable (a positive integer) or the default.
        File-size limits are returned in bytes."""
        raw = os.environ.get(self.env, "").strip()
        number = self.default
        if raw:
            try:
                number = int(raw)
            except ValueError:
                number = 0
            if number < 1:
                raise UserError(
                    f"{self.env}={raw!r} is not a positive integer",
                    field=self.env,
                    fix=f"set it to a number of {self.unit} (default {self.default:,})",
                )
        return number * 2**20 if self.unit == "MiB" else number

    def shown(self) -> str:
        """The limit in force as text (``64 MiB``, ``100,000 cases``)."""
        value = self.value()
        if self.unit == "MiB":
            return f"{value // 2**20:,} MiB"
        return f"{value:,} {self.unit}"

    def fix(self) -> str:
        """How to raise the limit (the end of an error message)."""
        return f"raise the limit with {self.env}=N ({self.unit}) if this is intended"


FILE_MB = Limit(
    "HARNESS_MAX_FILE_MB",
    64,
    "MiB",
    "configs, spec suite files, description files, results.json and run config.json",
)
DATA_MB = Limit(
    "HARNESS_MAX_DATA_MB",
    1024,
    "MiB",
    "data tables (the files task, csv/hatecheck spec tables) and samples.jsonl",
)
SPEC_CASES = Limit(
    "HARNESS_MAX_SPEC_CASES",
    100_000,
    "cases",
    "cases of one split (D_i or D_i_heldout) of one spec",
)
SUITE_CASES = Limit(
    "HARNESS_MAX_SUITE_CASES",
    1_000_000,
    "cases",
    "cases of one suite file (every spec, both splits)",
)
CASE_CHARS = Limit(
    "HARNESS_MAX_CASE_CHARS",
    10_000,
    "characters",
    "characters of one rendered case (after whitespace is collapsed)",
)

CACHE_MB = Limit(
    "HARNESS_MAX_CACHE_MB",
    1024,
    "MiB",
    "one file of a cache entry read whole (a manifest, a memoised value, a prediction set, a "
    "model's metadata; model weights are checked against their manifest instead)",
)

ALL_LIMITS = (FILE_MB, DATA_MB, SPEC_CASES, SUITE_CASES, CASE_CHARS, CACHE_MB)

YAML_NODES = 1_000_000
"""The most nodes (scalars, lists, mappings) a YAML document may hold as written."""

YAML_ALIAS_NODES = 200_000
"""The most nodes that anchors and aliases may add when the document is expanded."""

YAML_DEPTH = 200
"""The deepest nesting of lists and mappings a YAML document may have."""

SANDBOX_VALUE_CHARS = 100_000
"""The largest value (string length, list length, total size) a template may build at any
step, or output before whitespace is collapsed; at least the case limit."""


def sandbox_value_limit() -> int:
    """The bound on every intermediate value of a template: :data:`SANDBOX_VALUE_CHARS`, or the
    case limit when that was raised above it."""
    return max(SANDBOX_VALUE_CHARS, CASE_CHARS.value())


def human_bytes(size: int) -> str:
    """``1536`` -> ``1.5 KiB``; ``8 * 2**30`` -> ``8.0 GiB``."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover
