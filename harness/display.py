"""Untrusted text made safe to show: terminal control characters escaped, length capped.

Spec ids, descriptions, case texts and file names come from users (or whoever wrote a spec
file). Printed raw, ``\\x1b[2J`` clears the screen, an OSC sequence retitles the terminal, and
bidirectional overrides reorder what a line appears to say. :func:`printable` escapes them; every
console output (the console report, progress lines, ``error:``/``warning:`` lines, ``specs
preview``/``stats``) goes through it. :func:`shortened` caps a text shown in a report (the full
text stays in ``samples.jsonl`` / ``results.json``). :func:`percent` formats every rate and
difference of rates a report shows, with :data:`MISSING` for a missing value.
"""

from __future__ import annotations

import re

SHOWN_TEXT_CHARS = 500
"""The longest text a report shows in one place (a case text, a description, an id)."""

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 control characters (ESC, CSI, BEL, newlines...), DEL, the Unicode line and paragraph
separators and the bidirectional embedding/override/isolate controls. Joiners and the plain
left-to-right / right-to-left marks, which right-to-left scripts need, are kept."""

NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in NAMED:
        return NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """``value`` as text with every control character written as a visible escape
    (``\\x1b``, ``\\n``, ``\\u202e``), so that it prints as what it is."""
    return CONTROL.sub(_escape, str(value))


def shortened(value: object, limit: int = SHOWN_TEXT_CHARS) -> str:
    """``value`` as text of at most ``limit`` characters: a longer text is cut and ends with an
    ellipsis and the number of characters left out (so shortening twice changes nothing)."""
    text = str(value)
    if len(text) <= limit:
        return text
    omitted = len(text) - limit
    while True:  # the suffix's own length depends on the number it shows
        suffix = f"… ({omitted:,} more characters)"
        keep = max(0, limit - len(suffix))
        if len(text) - keep == omitted:
            return text[:keep] + suffix
        omitted = len(text) - keep


def console_text(value: object, limit: int = SHOWN_TEXT_CHARS) -> str:
    """``value`` ready for rich: capped, control characters escaped, markup escaped."""
    from rich.markup import escape

    return escape(printable(shortened(value, limit)))


MISSING = "–"
"""How a report shows a missing number (a row that never trained, an interval not computed)."""


def percent(
    value: float | None, digits: int = 1, *, signed: bool = False, missing: str = MISSING
) -> str:
    """A rate in percent, without the % sign (``0.253`` -> ``25.3``), or with ``signed`` a
    difference of rates in signed percentage points (``-0.05`` -> ``-5.0``); ``missing`` for
    ``None``."""
    if value is None:
        return missing
    return f"{100 * value:+.{digits}f}" if signed else f"{100 * value:.{digits}f}"
