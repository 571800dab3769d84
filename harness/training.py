"""Deprecated: the content-hash cache lives in :mod:`harness.cache`.

Plugins that import the hashing helpers from here (``hash_texts``, ``hash_split``,
``hash_spec_train_cases``, ``hash_json``) or ``default_cache_dir`` keep working for now; import
them from :mod:`harness.cache` instead.
"""

from __future__ import annotations

import warnings

from harness.cache import (
    default_cache_dir,
    hash_json,
    hash_spec_train_cases,
    hash_split,
    hash_texts,
)

warnings.warn(
    "harness.training is deprecated: import from harness.cache",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["default_cache_dir", "hash_json", "hash_spec_train_cases", "hash_split", "hash_texts"]
