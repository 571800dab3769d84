"""Which allocator pyarrow uses: the system's, so that Arrow data respects address-space limits.

pyarrow's default allocator (mimalloc or jemalloc) reserves over a gigabyte of address space
the first time it allocates. That costs no resident memory but fails under an address-space
limit (``ulimit -v`` on shared clusters, the memory-capped hostile-input tests). pyarrow reads
its choice from ``ARROW_DEFAULT_MEMORY_POOL`` when it is first imported, so the harness sets that
variable to ``system`` (unless the user set it) before its own first import of pyarrow; the
system allocator measured as fast on the 1M-row pool benchmark. If pyarrow was imported before
(by the user's code), its Python-level default pool is switched instead, which covers most
allocations.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

ENV = "ARROW_DEFAULT_MEMORY_POOL"


def import_pyarrow() -> ModuleType:
    """``pyarrow``, imported with the system allocator as its default (see module doc)."""
    chosen = os.environ.get(ENV)
    if "pyarrow" not in sys.modules and not chosen:
        os.environ[ENV] = "system"
    import pyarrow

    if not chosen:
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    return pyarrow
