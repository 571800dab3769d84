"""spec-harness benchmark suite: ``python -m benchmarks [--quick] [--only NAME] [--json PATH]``.

Each ``benchmarks/bench_<name>.py`` module exposes ``run(quick: bool) -> dict`` (optionally with a
``device`` keyword) returning ``{"rows": [...]}``; every row times a variant next to a baseline
measured in the same run and gives their ratio. See ``BENCHMARKS.md`` for the published figures.
"""
