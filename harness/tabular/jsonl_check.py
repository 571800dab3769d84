"""A fast structural check of a JSON Lines file before ``datasets``' JSON builder reads it.

The builder reads a line holding a JSON list as rows, and pyarrow's JSON parser underneath it
crashes the process on very deep nesting. So a vectorised byte scan first checks that every
non-blank line starts with ``{`` and that no line nests brackets too deep; whatever it finds,
:mod:`harness.tabular.scan` reads the file exactly to report the first problem with its line.
The scan streams the file: nothing is held whole in memory.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np

from harness.tabular.hints import TableHints
from harness.tabular.scan import TextLayout, empty_file, scan_file

BLOCK_BYTES = 1 << 22
"""Bytes read at a time by the streaming checks."""

NEWLINE = ord("\n")
LINE_HEADS = np.frombuffer(b"{\n\r", dtype=np.uint8)
"""Bytes a JSON Lines line may start with: an object, or nothing (a blank line)."""
WHITESPACE = np.frombuffer(b" \t\r\n", dtype=np.uint8)
OPENERS = np.frombuffer(b"[{", dtype=np.uint8)
CLOSERS = np.frombuffer(b"]}", dtype=np.uint8)
MAX_JSON_DEPTH = 64
"""Deepest bracket nesting in one JSON line that the builder is given; deeper lines are read by
Python's json (which reports nesting it cannot follow as an error)."""
SINGLE_BYTE_OR_UTF8 = {"utf-8", "utf-8-sig", "ascii", "latin-1", "iso8859-1", "cp1252"}
"""Encodings in which the bytes ``{`` and newline are those characters."""


def check_jsonl(path: Path, layout: TextLayout, hints: TableHints) -> bool:
    """Check a JSON Lines file before the builder: every non-blank line starts with ``{`` (a BOM
    is allowed) and no line nests brackets deeper than :data:`MAX_JSON_DEPTH` (pyarrow's JSON
    parser crashes the process on very deep nesting). Returns ``True`` when the builder may read
    the file; ``False`` when the exact scan had to check it (brackets inside strings can look
    deep) and the table should be built from the exact reading. Problems raise one-line errors."""
    if codecs.lookup(layout.python_encoding()).name not in SINGLE_BYTE_OR_UTF8:
        scan_file(path, layout, hints)
        return False
    carry = b"\n"  # the byte before the current block
    depth_before = 0  # bracket depth of the current line at the end of the previous block
    saw_data = False
    with path.open("rb") as handle:
        block = handle.read(BLOCK_BYTES)
        if block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8) :]
        while block:
            data = np.frombuffer(carry + block, dtype=np.uint8)
            newline = data == NEWLINE
            heads = data[np.flatnonzero(newline[:-1]) + 1]
            if np.any(~np.isin(heads, LINE_HEADS)):
                scan_file(path, layout, hints)  # a line starting otherwise: check exactly
                return False
            depth, depth_before = _line_depths(data[1:], newline[1:], depth_before)
            if depth > MAX_JSON_DEPTH:
                scan_file(path, layout, hints)  # raises "nested too deeply" when it is
                return False
            saw_data = saw_data or bool(np.any(~np.isin(data, WHITESPACE)))
            carry = block[-1:]
            block = handle.read(BLOCK_BYTES)
    if not saw_data:
        raise empty_file(path, hints)
    return True


def _line_depths(data: np.ndarray, newline: np.ndarray, start: int) -> tuple[int, int]:
    """The largest bracket depth reached within a line of ``data`` (counting ``[``/``{`` up and
    ``]``/``}`` down, strings not excluded), and the depth of the last, unfinished line."""
    step = np.isin(data, OPENERS).astype(np.int32) - np.isin(data, CLOSERS).astype(np.int32)
    if not len(step):
        return start, start
    level = np.cumsum(step) + start
    ends = np.flatnonzero(newline)
    line = np.cumsum(newline) - newline  # line index of each byte (a newline ends its line)
    base = np.concatenate([[0], level[ends]])[line]
    base[line == 0] = 0
    relative = level - base
    relative[line == 0] = level[line == 0]
    return int(relative.max(initial=0)), int(relative[-1]) if not newline[-1] else 0
