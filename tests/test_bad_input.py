"""A table-driven corpus of bad input: every case runs the CLI and must exit with status 2, print
exactly one line ``error: [file[:line]: ][field: ]what is wrong; what to do`` on stderr (no
traceback; ``warning: `` lines may precede it), and leave no new file anywhere (output folder,
cache, input folder).

Each case is ``Case(id, build, expect)``: ``build(tmp)`` writes the input files into ``tmp`` and
returns the CLI arguments; ``expect`` lists substrings the error line must contain (use ``{tmp}``
for the case folder). The run's ``--output-dir`` is ``tmp/out`` unless the case sets its own.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli

ERROR_LINE = re.compile(r"^error: \S.*; \S.*$")
"""One line: ``error: `` then the location/field/problem, then ``; `` and the fix."""

# ---------------------------------------------------------------------------------------------
# Input builders
# ---------------------------------------------------------------------------------------------

TRAIN_ROWS = [
    ("t1", "you are a lovely person", "ok"),
    ("t2", "what a kind thing to say", "ok"),
    ("t3", "have a great day", "ok"),
    ("t4", "you are an idiot", "bad"),
    ("t5", "what a stupid clown", "bad"),
    ("t6", "get lost you moron", "bad"),
]
TEST_ROWS = [
    ("s1", "such a friendly neighbour", "ok"),
    ("s2", "you pathetic loser", "bad"),
    ("s3", "thanks for the help", "ok"),
    ("s4", "shut up you fool", "bad"),
]


def write_csv(
    path: Path,
    rows: list[tuple[str, ...]],
    header: tuple[str, ...] = ("id", "text", "label"),
    delimiter: str = ",",
) -> Path:
    """Write rows (quoted when needed) with a header line."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """One JSON object per line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def files_task(tmp: Path, train: Path | str, test: Path | str, **extra: str) -> list[str]:
    """``run --task files --task-args ...`` for the given split files."""
    args = {"train": str(train), "test": str(test), **extra}
    return ["run", "--task", "files", "--task-args", ",".join(f"{k}={v}" for k, v in args.items())]


def good_test(tmp: Path) -> Path:
    """A valid test split file."""
    return write_csv(tmp / "test.csv", TEST_ROWS)


def good_train(tmp: Path) -> Path:
    """A valid train split file."""
    return write_csv(tmp / "train.csv", TRAIN_ROWS)


def with_train(make: Callable[[Path], Path], **extra: str) -> Callable[[Path], list[str]]:
    """A files-task case whose train file is made by ``make`` (the test file is valid)."""

    def build(tmp: Path) -> list[str]:
        return files_task(tmp, make(tmp), good_test(tmp), id_column="id", **extra)

    return build


def config(text: str | bytes, *extra: str) -> Callable[[Path], list[str]]:
    """A case that runs ``--config`` on a file with ``text``."""

    def build(tmp: Path) -> list[str]:
        path = tmp / "run.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return ["run", "--config", str(path), *extra]

    return build


def flags(*args: str) -> Callable[[Path], list[str]]:
    """A case given by flags alone."""
    return lambda tmp: ["run", *args]


SPEC_OK = """\
suite: mini
labels: [non-toxic, toxic]
specs:
  - id: insult
    label: toxic
    slots: {x: [idiot, fool, clown, loser, moron, creep, jerk, pest, weirdo, nitwit, slob]}
    templates: ["you {{ x }}"]
    heldout_templates: ["what {{ x | a_an }}"]
"""


def spec(text: str) -> Callable[[Path], list[str]]:
    """A case that runs the demo task with the spec suite file ``text``."""

    def build(tmp: Path) -> list[str]:
        path = tmp / "suite.yaml"
        path.write_text(text, encoding="utf-8")
        return ["run", "--specs", str(path), "--limit", "50"]

    return build


AUGMENT_BARE = "interventions: [{name: augment, params: {specs: [bare]}}]\n"
HELDOUT_ONLY = """\
suite: mini
labels: [non-toxic, toxic]
specs:
  - id: bare
    label: toxic
    slots: {x: [idiot, fool, clown, loser, moron, creep, jerk, pest, weirdo, nitwit, slob]}
    heldout_templates: ["such {{ x | a_an }}"]
"""


YAML_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
task: demo
"""


DEEP_JSON = b'{"text": "a", "label": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"


def _unreadable(tmp: Path) -> Path:
    path = good_train(tmp)
    path.chmod(0)
    return path


def _rows(*rows: tuple[str, ...]) -> Callable[[Path], Path]:
    return lambda tmp: write_csv(tmp / "train.csv", list(rows))


def _dup_across(tmp: Path) -> list[str]:
    train = good_train(tmp)
    test = write_csv(tmp / "test.csv", [*TEST_ROWS, ("t2", "overlap", "ok")])
    return files_task(tmp, train, test, id_column="id")


def _test_label_outside(tmp: Path) -> list[str]:
    test = write_csv(tmp / "test.csv", [*TEST_ROWS, ("s9", "meh", "neutral")])
    return files_task(tmp, good_train(tmp), test, id_column="id")


def _empty_pool(tmp: Path) -> list[str]:
    (tmp / "pool.csv").write_text("id,text,label\n", encoding="utf-8")
    return files_task(tmp, good_train(tmp), good_test(tmp), pool=str(tmp / "pool.csv"))


def _missing_test_arg(tmp: Path) -> list[str]:
    return ["run", "--task", "files", "--task-args", f"train={good_train(tmp)}"]


def _output_dir_is_file(tmp: Path) -> list[str]:
    (tmp / "taken").write_text("x", encoding="utf-8")
    return ["run", "--limit", "50", "--output-dir", str(tmp / "taken")]


def _cache_dir_is_file(tmp: Path) -> list[str]:
    (tmp / "cachefile").write_text("x", encoding="utf-8")
    return ["run", "--limit", "50", "--cache-dir", str(tmp / "cachefile")]


def late_intervention(item: str) -> Callable[[Path], list[str]]:
    """A small demo run with one intervention given in YAML flow style."""
    return config(f"limit: 60\nmodel_args: {{epochs: 1}}\ninterventions:\n  - {item}\n")


def _no_pool_retrain(tmp: Path) -> list[str]:
    mapped = files_task(tmp, good_train(tmp), good_test(tmp), label_map="ok:non-toxic|bad:toxic")
    return [*mapped, "--interventions", "retrain"]


POOL_ROWS = [("p1", "thanks a lot friend", "ok"), ("p2", "you silly clown", "bad")]


def pool_sources_config(
    policy: str, interventions: str = "[retrain]", policy_rows: list[tuple[str, ...]] | None = None
) -> Callable[[Path], list[str]]:
    """A run config whose files task has a pool of two named sources: ``general`` (like
    train) and ``policy`` (columns uid, sentence, labels with 0/1), with the YAML mapping
    ``policy`` for the second source (``{path}`` stands for the policy file)."""

    def build(tmp: Path) -> list[str]:
        general = write_csv(tmp / "general.csv", POOL_ROWS)
        rows = policy_rows or [("q1", "nobody is a clown", "0"), ("q2", "they are all fools", "1")]
        policy_file = write_csv(tmp / "policy.csv", rows, header=("uid", "sentence", "labels"))
        text = f"""\
task: files
task_args:
  train: {good_train(tmp)}
  test: {good_test(tmp)}
  label_map: {{ok: non-toxic, bad: toxic}}
  pool:
    - {{name: general, path: {general}}}
    - {policy.format(path=policy_file)}
interventions: {interventions}
limit: 60
"""
        path = tmp / "run.yaml"
        path.write_text(text, encoding="utf-8")
        return ["run", "--config", str(path)]

    return build


POLICY_OK = (
    "{{name: policy, path: {path}, text_column: sentence, label_column: labels, "
    "label_map: {{0: non-toxic, 1: toxic}}}}"
)


def hf_dataset(
    splits: tuple[str, ...] = ("train", "test"), label: str = "class", name: str = "ds"
) -> Callable[[Path], Path]:
    """A saved DatasetDict (``save_to_disk``) whose label column is a ClassLabel (neg, pos),
    floats (``float``) or -1 everywhere in its test split (``unlabelled``)."""

    def make(tmp: Path) -> Path:
        import datasets

        texts = [t for _, t, _ in TRAIN_ROWS]
        values: list[object] = [0 if y == "ok" else 1 for _, _, y in TRAIN_ROWS]
        feature: object = datasets.ClassLabel(names=["neg", "pos"])
        if label == "float":
            values = [0.25, 0.75, 0.5, 0.9, 0.1, 0.3]
            feature = datasets.Value("float32")
        features = datasets.Features({"text": datasets.Value("string"), "label": feature})
        parts = {}
        for split in splits:
            split_values = (
                [-1] * len(values) if label == "unlabelled" and split == "test" else values
            )
            parts[split] = datasets.Dataset.from_dict(
                {"text": texts, "label": split_values}, features=features
            )
        folder = tmp / name
        datasets.DatasetDict(parts).save_to_disk(str(folder))
        return folder

    return make


def hf_task(make: Callable[[Path], Path], **extra: str) -> Callable[[Path], list[str]]:
    """``run --task hf`` on the dataset ``make`` builds."""

    def build(tmp: Path) -> list[str]:
        args = {"path": str(make(tmp)), **extra}
        return ["run", "--task", "hf", "--task-args", ",".join(f"{k}={v}" for k, v in args.items())]

    return build


def _parquet(tmp: Path, name: str, table: dict[str, list[object]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp / name
    pq.write_table(pa.table(table), path)
    return path


def _nested_parquet_train(tmp: Path) -> list[str]:
    texts = [[t] for _, t, _ in TRAIN_ROWS]
    train = _parquet(tmp, "train.parquet", {"text": texts, "label": [y for *_, y in TRAIN_ROWS]})
    return files_task(tmp, train, good_test(tmp))


def config_with_hf_pool(source: str) -> Callable[[Path], list[str]]:
    """A run config of the hf task on a saved dataset with one pool source (YAML flow map)."""

    def build(tmp: Path) -> list[str]:
        folder = hf_dataset()(tmp)
        path = tmp / "run.yaml"
        path.write_text(
            f"task: hf\ntask_args:\n  path: {folder}\n  pool:\n    - {source}\n",
            encoding="utf-8",
        )
        return ["run", "--config", str(path)]

    return build


_VALID_RUN: list[Path] = []


def valid_run(tmp: Path) -> Path:
    """A copy (in ``tmp/run``) of a small finished run, made once per test session."""
    import shutil
    import tempfile

    if not _VALID_RUN:
        home = Path(tempfile.mkdtemp(prefix="harness-valid-run-"))
        old = os.environ.get("HARNESS_CACHE_DIR")
        os.environ["HARNESS_CACHE_DIR"] = str(home / "cache")
        try:
            args = ["run", "-q", "--limit", "100", "--interventions", "", "--device", "cpu"]
            args += ["--model-args", "epochs=1", "--output-dir", str(home / "out")]
            done = CliRunner().invoke(cli, args)
            assert done.exit_code == 0, done.output
        finally:
            if old is None:
                os.environ.pop("HARNESS_CACHE_DIR", None)
            else:
                os.environ["HARNESS_CACHE_DIR"] = old
        (run_dir,) = list((home / "out").iterdir())
        _VALID_RUN.append(run_dir)
    return Path(shutil.copytree(_VALID_RUN[0], tmp / "run"))


def report(
    edit: Callable[[Path], object] | None = None, *extra: str
) -> Callable[[Path], list[str]]:
    """A ``harness report`` case on a copy of a valid run changed by ``edit``."""

    def build(tmp: Path) -> list[str]:
        run_dir = valid_run(tmp)
        if edit is not None:
            edit(run_dir)
        return ["report", str(run_dir), *extra]

    return build


def _edit_results(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(run_dir: Path) -> None:
        path = run_dir / "results.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        data.pop("checks", None) if isinstance(data, dict) else None
        path.write_text(json.dumps(data), encoding="utf-8")

    return edit


def _set_accuracy(data: dict) -> None:
    data["models"][0]["seeds"][0]["test"]["accuracy"] = "high"


def _set_nan_accuracy(data: dict) -> None:
    data["models"][0]["seeds"][0]["test"]["accuracy"] = float("nan")


def _set_infinite_fr(data: dict) -> None:
    data["models"][0]["aggregate"]["mean_fr"] = float("inf")


# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One bad input: how to build it and what the error line must say."""

    id: str
    build: Callable[[Path], list[str]]
    expect: list[str] = field(default_factory=list)
    marks: tuple = ()
    own_output_dir: bool = False
    late: bool = False
    """Found only after M0 was trained: the cache may hold M0, the output folder must not."""


CASES: list[Case] = [
    # --- config files ----------------------------------------------------------------------
    Case("config-empty", config(""), ["run.yaml", "the config file is empty"]),
    Case("config-only-comments", config("# nothing\n"), ["the config file is empty"]),
    Case("config-a-list", config("- task: demo\n"), ["run.yaml", "expected a mapping"]),
    Case("config-a-scalar", config("just words\n"), ["expected a mapping"]),
    Case("config-unknown-key", config("task: demo\nmodle: bow\n"), ["run.yaml:2", "'modle'"]),
    Case("config-wrong-type", config("task: demo\nbudget: lots\n"), ["run.yaml:2", "budget"]),
    Case("config-negative-budget", config("budget: -1\n"), ["run.yaml:1", "budget"]),
    Case("config-bad-device", config("device: tpu\n"), ["run.yaml:1", "device"]),
    Case("config-unknown-task", config("task: demoo\n"), ["unknown task 'demoo'", "demo"]),
    Case("config-unknown-model", config("model: bwo\n"), ["unknown model 'bwo'", "bow"]),
    Case(
        "config-unknown-intervention",
        config("interventions: [no-such-fix]\n"),
        ["unknown intervention 'no-such-fix'"],
    ),
    Case(
        "config-intervention-bad-shape",
        config("interventions:\n  - {name: x, parms: {}}\n"),
        ["run.yaml:2", "'parms'"],
    ),
    Case("config-yaml-syntax", config("task: [demo\nmodel: bow\n"), ["run.yaml:", "YAML syntax"]),
    Case("config-tab-indent", config("task: demo\n\tmodel: bow\n"), ["run.yaml:", "YAML"]),
    Case("config-yaml-bomb", config(YAML_BOMB), ["run.yaml", "YAML bomb"]),
    Case(
        "config-latin1-bytes",
        config("task: demo\n# caf\xe9\n".encode("latin-1")),
        ["run.yaml", "not valid utf-8", "encoding"],
    ),
    Case(
        "config-lone-surrogate",
        config('task: "demo\\ud800"\n'),
        ["run.yaml:1", "lone surrogate"],
    ),
    Case("config-python-tag", config("task: !!python/object:os.system ls\n"), ["run.yaml:1"]),
    Case(
        "config-missing-path",
        lambda tmp: ["run", "--config", str(tmp / "nope.yaml")],
        ["nope.yaml", "file not found"],
    ),
    Case("config-path-is-folder", lambda tmp: ["run", "--config", str(tmp)], ["--config"]),
    Case("config-seeds-zero", config("seeds: 0\n"), ["run.yaml:1", "seeds"]),
    Case("config-seeds-empty", config("seeds: []\n"), ["run.yaml:1", "seeds", "empty"]),
    Case("config-seeds-repeated", config("seeds: [0, 1, 0]\n"), ["seeds", "seed 0", "twice"]),
    # --- CLI flags -------------------------------------------------------------------------
    Case(
        "flag-model-args-no-equals",
        flags("--model-args", "epochs"),
        ["--model-args", "expected key=value"],
    ),
    Case(
        "flag-model-args-unknown-key",
        flags("--model-args", "epochs=2,epoks=3"),
        ["--model-args epoks: unknown key", "did you mean epochs"],
    ),
    Case(
        "flag-model-args-wrong-type",
        flags("--model-args", "epochs=many"),
        ["--model-args epochs", "many"],
    ),
    Case("flag-model-args-out-of-range", flags("--model-args", "epochs=0"), ["epochs"]),
    Case("flag-seeds-not-a-number", flags("--seeds", "abc"), ["--seeds", "not a valid integer"]),
    Case("flag-seeds-zero", flags("--seeds", "0"), ["--seeds"]),
    Case("flag-seeds-negative", flags("--seeds", "-3"), ["--seeds"]),
    Case("flag-budget-negative", flags("--budget", "-5"), ["--budget"]),
    Case("flag-limit-zero", flags("--limit", "0"), ["--limit"]),
    Case("flag-device-unknown", flags("--device", "tpu"), ["--device", "tpu"]),
    Case("flag-unknown-option", flags("--sedes", "3"), ["--sedes"]),
    Case("flag-task-args-unknown", flags("--task-args", "n_trian=20"), ["'n_trian'", "n_train"]),
    Case("flag-unknown-task", flags("--task", "dmeo"), ["unknown task 'dmeo'", "demo"]),
    Case("flag-unknown-model", flags("--model", "nope"), ["unknown model 'nope'"]),
    Case(
        "flag-unknown-intervention",
        flags("--interventions", "retrian"),
        ["unknown intervention 'retrian'"],
    ),
    Case("flag-unknown-suite", flags("--specs", "dmeo"), ["unknown spec suite 'dmeo'", "demo"]),
    Case(
        "flag-control-sequences-in-path",
        flags("--specs", "no/such\x1b[2J\x1b]0;pwned\x07.yaml"),
        ["no/such\\x1b[2J\\x1b]0;pwned\\x07.yaml", "no such spec file"],
    ),
    Case(
        "flag-missing-spec-path",
        lambda tmp: ["run", "--specs", str(tmp / "no" / "s.yaml")],
        ["s.yaml", "no such spec file"],
    ),
    Case(
        "flag-output-dir-is-file",
        _output_dir_is_file,
        ["taken", "output_dir", "folder"],
        own_output_dir=True,
    ),
    Case("flag-cache-dir-is-file", _cache_dir_is_file, ["cachefile", "cache_dir", "folder"]),
    Case("flag-limit-one-single-class", flags("--limit", "1"), ["single class"]),
    # --- data files of the `files` task ----------------------------------------------------
    Case(
        "data-empty-file",
        with_train(lambda tmp: _write(tmp / "train.csv", b"")),
        ["train.csv", "the file is empty"],
    ),
    Case(
        "data-whitespace-file",
        with_train(lambda tmp: _write(tmp / "train.csv", b"\n \n")),
        ["train.csv", "the file is empty"],
    ),
    Case(
        "data-header-only",
        with_train(lambda tmp: _write(tmp / "train.csv", b"id,text,label\n")),
        ["train.csv", "no data rows"],
    ),
    Case(
        "data-latin1",
        with_train(
            lambda tmp: _write(
                tmp / "train.csv", "id,text,label\na,caf\xe9 idiot,bad\n".encode("latin-1")
            )
        ),
        ["train.csv:2", "not valid utf-8", "encoding=latin-1"],
    ),
    Case(
        "data-unknown-encoding",
        with_train(good_train, encoding="klingon"),
        ["task_args.encoding", "unknown encoding 'klingon'"],
    ),
    Case(
        "data-missing-text-column",
        with_train(lambda tmp: write_csv(tmp / "train.csv", TRAIN_ROWS, ("id", "tweet", "label"))),
        ["train.csv", "task_args.text_column", "no column 'text'", "tweet"],
    ),
    Case(
        "data-missing-label-column",
        with_train(lambda tmp: write_csv(tmp / "train.csv", TRAIN_ROWS, ("id", "text", "class"))),
        ["train.csv", "task_args.label_column", "no column 'label'"],
    ),
    Case(
        "data-missing-id-column",
        lambda tmp: files_task(tmp, good_train(tmp), good_test(tmp), id_column="tweet_id"),
        ["train.csv", "task_args.id_column", "no column 'tweet_id'"],
    ),
    Case(
        "data-label-outside-given-set",
        with_train(good_train, labels="ok|toxic"),
        ["train.csv:5", "label 'bad' is not in the label set"],
    ),
    Case("data-test-label-outside-train", _test_label_outside, ["test.csv:6", "label 'neutral'"]),
    Case(
        "data-single-class-train",
        with_train(_rows(("a", "nice", "ok"), ("b", "lovely", "ok"))),
        ["train.csv", "single class"],
    ),
    Case(
        "data-empty-text",
        with_train(_rows(*TRAIN_ROWS, ("t7", "", "ok"))),
        ["train.csv:8", "empty or missing text", "empty_texts=drop"],
    ),
    Case(
        "data-whitespace-text",
        with_train(_rows(*TRAIN_ROWS, ("t7", "   ", "ok"))),
        ["train.csv:8", "empty or missing text"],
    ),
    Case(
        "data-null-text-jsonl",
        lambda tmp: files_task(
            tmp,
            write_jsonl(
                tmp / "train.jsonl",
                [{"text": t, "label": y} for _, t, y in TRAIN_ROWS]
                + [{"text": None, "label": "ok"}],
            ),
            good_test(tmp),
        ),
        ["train.jsonl:7", "empty or missing text"],
    ),
    Case(
        "data-nan-text-jsonl",
        lambda tmp: files_task(
            tmp, _write(tmp / "train.jsonl", b'{"text": NaN, "label": "ok"}\n'), good_test(tmp)
        ),
        ["train.jsonl:1", "empty or missing text"],
    ),
    Case(
        "data-all-texts-dropped",
        with_train(_rows(("a", "", "ok"), ("b", " ", "bad")), empty_texts="drop"),
        ["train.csv", "no data rows", "2 rows with empty texts dropped"],
    ),
    Case(
        "data-empty-label",
        with_train(_rows(*TRAIN_ROWS, ("t7", "hello", ""))),
        ["train.csv:8", "empty or missing label"],
    ),
    Case(
        "data-duplicate-id",
        with_train(_rows(*TRAIN_ROWS, ("t3", "again", "ok"))),
        ["train.csv:8", "duplicate id 't3'", "line 4"],
    ),
    Case("data-duplicate-id-across-splits", _dup_across, ["test.csv", "'t2'", "also in train"]),
    Case(
        "data-missing-path",
        lambda tmp: files_task(tmp, tmp / "missing.csv", good_test(tmp)),
        ["missing.csv", "task_args.train", "file not found"],
    ),
    Case(
        "data-path-is-folder",
        lambda tmp: files_task(tmp, tmp, good_test(tmp)),
        ["task_args.train", "is a folder"],
    ),
    Case(
        "data-unreadable",
        with_train(_unreadable),
        ["train.csv", "permission denied"],
        marks=(
            pytest.mark.skipif(
                os.name != "posix" or os.geteuid() == 0, reason="root can read a chmod-000 file"
            ),
        ),
    ),
    Case(
        "data-jsonl-bad-json",
        lambda tmp: files_task(
            tmp,
            _write(tmp / "train.jsonl", b'{"text": "a", "label": "ok"}\n{"text": "b",\n'),
            good_test(tmp),
        ),
        ["train.jsonl:2", "not valid JSON"],
    ),
    Case(
        "data-jsonl-not-object",
        lambda tmp: files_task(tmp, _write(tmp / "train.jsonl", b'["a", "ok"]\n'), good_test(tmp)),
        ["train.jsonl:1", "expected a JSON object"],
    ),
    Case(
        "data-jsonl-missing-key",
        lambda tmp: files_task(
            tmp, write_jsonl(tmp / "train.jsonl", [{"txt": "a", "label": "ok"}]), good_test(tmp)
        ),
        ["train.jsonl", "no column 'text'", "txt"],
    ),
    Case(
        "data-jsonl-deep-nesting",
        lambda tmp: files_task(tmp, _write(tmp / "train.jsonl", DEEP_JSON), good_test(tmp)),
        ["train.jsonl:1", "nested too deeply"],
    ),
    Case(
        "data-jsonl-list-label",
        lambda tmp: files_task(
            tmp, _write(tmp / "train.jsonl", b'{"text": "a", "label": ["x"]}\n'), good_test(tmp)
        ),
        ["train.jsonl:1", "the label must be a string"],
    ),
    Case(
        "data-jsonl-infinite-label",
        lambda tmp: files_task(
            tmp, _write(tmp / "train.jsonl", b'{"text": "a", "label": 1e400}\n'), good_test(tmp)
        ),
        ["train.jsonl:1", "the label must be"],
    ),
    Case(
        "data-jsonl-lone-surrogate",
        lambda tmp: files_task(
            tmp,
            _write(tmp / "train.jsonl", b'{"text": "bad \\ud800 text", "label": "x"}\n'),
            good_test(tmp),
        ),
        ["train.jsonl:1", "lone surrogate"],
    ),
    Case(
        "data-csv-ragged-row",
        with_train(lambda tmp: _write(tmp / "train.csv", b"id,text,label\na,hi, there,ok\n")),
        ["train.csv:2", "4 fields but the header has 3"],
    ),
    Case(
        "data-unknown-suffix",
        lambda tmp: files_task(tmp, _write(tmp / "train.txt", b"text,label\n"), good_test(tmp)),
        ["train.txt", "cannot tell the format", "delimiter"],
    ),
    Case(
        "data-bad-delimiter",
        with_train(good_train, delimiter="ab"),
        ["--task-args delimiter", "one character"],
    ),
    Case(
        "data-tsv-read-as-csv",
        lambda tmp: files_task(
            tmp, write_csv(tmp / "train.csv", TRAIN_ROWS, delimiter="\t"), good_test(tmp)
        ),
        ["train.csv", "no column 'text'"],
    ),
    Case("data-missing-required-arg", _missing_test_arg, ["--task-args test", "required"]),
    Case("data-empty-pool", _empty_pool, ["pool.csv", "task_args.pool", "no data rows"]),
    Case(
        "data-bad-label-map",
        with_train(good_train, label_map="ok-bad"),
        ["--task-args label_map"],
    ),
    Case(
        "data-one-label-given",
        with_train(good_train, labels="ok"),
        ["task_args.labels", "two distinct labels"],
    ),
    Case(
        "pool-empty-with-retrain",
        _no_pool_retrain,
        ["interventions (retrain-random)", "empty pool", "pool=FILE"],
    ),
    Case(
        "pool-empty-demo-with-retrain",
        flags("--task-args", "n_pool=0", "--interventions", "retrain", "--limit", "50"),
        ["empty pool"],
    ),
    # --- binary data files and the hf task ----------------------------------------------------
    Case(
        "data-parquet-nested-text",
        _nested_parquet_train,
        ["train.parquet:1", "task_args.text_column (text)", "the text must be a string", "nested"],
    ),
    Case(
        "data-not-parquet",
        lambda tmp: files_task(tmp, _write(tmp / "train.parquet", b"not parquet"), good_test(tmp)),
        ["train.parquet", "task_args.train", "cannot read the Parquet file"],
    ),
    Case(
        "data-fractional-labels",
        lambda tmp: files_task(
            tmp,
            _parquet(tmp, "train.parquet", {"text": ["a", "b"], "label": [0.2, 0.8]}),
            good_test(tmp),
        ),
        ["train.parquet:1", "task_args.label_column (label)", "fractional numbers"],
    ),
    Case(
        "hf-missing-split",
        hf_task(hf_dataset(("train",))),
        ["task_args.test_split", "has no split 'test'", "splits: train", "test_from=train:0.2"],
    ),
    Case(
        "hf-missing-column",
        hf_task(hf_dataset(), text_column="sentence"),
        ["ds[train]", "task_args.text_column", "no column 'sentence'", "columns: text, label"],
    ),
    Case(
        "hf-float-labels",
        hf_task(hf_dataset(label="float")),
        ["ds[train]:1", "task_args.label_column (label)", "fractional numbers (e.g. 0.25"],
    ),
    Case(
        "hf-class-label-vs-labels",
        hf_task(hf_dataset(), labels="ok|bad"),
        ["task_args.labels", "ClassLabel with classes neg, pos", "label_map="],
    ),
    Case(
        "hf-unlabelled-test-split",
        hf_task(hf_dataset(label="unlabelled")),
        ["task_args.label_column (label)", "split 'test'", "has no labels", "test_from=train"],
    ),
    Case(
        "hf-data-files-without-builder",
        lambda tmp: [
            "run",
            "--task",
            "hf",
            "--task-args",
            f"path=someone/data,data_files={good_train(tmp)}",
        ],
        ["task_args.path", "data_files are read by a builder", "path=csv"],
    ),
    Case(
        "hf-builder-without-files",
        flags("--task", "hf", "--task-args", "path=csv"),
        ["task_args.data_files", "no data_files are given"],
    ),
    Case(
        "hf-missing-folder",
        lambda tmp: ["run", "--task", "hf", "--task-args", f"path={tmp / 'no' / 'such'}"],
        ["such", "task_args.path", "dataset not found"],
    ),
    Case(
        "hf-csv-data-file-ragged",
        lambda tmp: [
            "run",
            "--task",
            "hf",
            "--task-args",
            "path=csv,data_files=train:"
            + str(_write(tmp / "t.csv", b"text,label\nhi, there,ok\n"))
            + f"|test:{good_test(tmp)}",
        ],
        ["t.csv:2", "task_args.data_files.train", "3 fields but the header has 2"],
    ),
    Case(
        "hf-pool-source-unknown-split",
        config_with_hf_pool("{name: general, split: unlabelled}"),
        ["task_args.pool[0].split", "has no split 'unlabelled'", "splits: train, test"],
    ),
    # --- intervention arguments that can only be checked against the trained model ---------
    Case(
        "late-patch-bad-regex",
        late_intervention("{name: patch, params: {params: '(('}}"),
        ["invalid parameter pattern '(('"],
        late=True,
    ),
    Case(
        "late-patch-no-parameter",
        late_intervention("{name: patch, params: {params: xyz}}"),
        ["matches no parameter"],
        late=True,
    ),
    Case(
        "intervention-stratify-unknown-label",
        late_intervention("{name: retrain, params: {stratify: {spam: 1.0}}}"),
        ["stratify", "'spam'"],
    ),
    # --- pool sources -------------------------------------------------------------------------
    Case(
        "pool-source-label-set",
        pool_sources_config(
            POLICY_OK.replace("label_map: {{0: non-toxic, 1: toxic}}", "id_column: uid")
        ),
        ["policy.csv:2", "task_args.pool[1].label_map", "'0', '1'", "set label_map"],
    ),
    Case(
        "pool-source-label-outside-after-map",
        pool_sources_config(POLICY_OK.replace("1: toxic", "1: hateful")),
        ["policy.csv:3", "task_args.pool[1].label_map", "'hateful'", "must map to the task's"],
    ),
    Case(
        "pool-source-missing-column",
        pool_sources_config(POLICY_OK.replace("text_column: sentence", "text_column: text")),
        ["policy.csv", "task_args.pool[1].text_column", "no column 'text'", "sentence"],
    ),
    Case(
        "pool-source-inherited-column-missing",
        pool_sources_config("{{name: policy, path: {path}}}"),
        ["policy.csv", "task_args.pool[1].text_column", "pool source 'policy'"],
    ),
    Case(
        "pool-source-duplicate-name",
        pool_sources_config(POLICY_OK.replace("name: policy", "name: general")),
        ["task_args.pool[1].name", "duplicate pool source name 'general'", "its own name"],
    ),
    Case(
        "pool-source-bad-name",
        pool_sources_config(POLICY_OK.replace("name: policy", "name: 'my policy'")),
        ["task_args.pool[1].name", "'my policy' is not a plain word", "letters, digits"],
    ),
    Case(
        "retrain-unknown-source",
        pool_sources_config(POLICY_OK, "[{name: retrain, params: {sources: [policcy]}}]"),
        ["sources", "unknown pool source 'policcy'", "did you mean 'policy'?", "general, policy"],
    ),
    Case(
        "retrain-sources-without-named-pool",
        lambda tmp: [
            *files_task(
                tmp,
                good_train(tmp),
                good_test(tmp),
                label_map="ok:non-toxic|bad:toxic",
                pool=str(write_csv(tmp / "pool.csv", POOL_ROWS)),
            ),
            "--limit",
            "60",
            "--config",
            str(
                _write_text(
                    tmp / "r.yaml",
                    "interventions: [{name: retrain, params: {sources: [general]}}]\n",
                )
            ),
        ],
        ["sources", "no named sources"],
    ),
    # --- augment ------------------------------------------------------------------------------
    Case(
        "augment-empty-d-i",
        lambda tmp: [*spec(HELDOUT_ONLY)(tmp), "--interventions", "augment"],
        ["interventions (augment).params", "have none (only held-out cases)"],
    ),
    Case(
        "augment-subset-without-d-i",
        lambda tmp: [
            *spec(SPEC_OK + HELDOUT_ONLY.split("specs:\n")[1])(tmp),
            "--config",
            str(_write_text(tmp / "r.yaml", AUGMENT_BARE)),
        ],
        ["interventions (augment-bare).params.specs", "the chosen specs have none"],
    ),
    Case(
        "augment-unknown-spec",
        late_intervention("{name: augment, params: {specs: [counter-speach]}}"),
        ["params.specs", "unknown spec id 'counter-speach'", "did you mean 'counter-speech'?"],
    ),
    Case(
        "augment-two-modes",
        late_intervention("{name: augment, params: {per_spec: 2, budget: 10}}"),
        ["interventions[0].params", "per_spec or budget, not both"],
    ),
    # --- results given to `harness report` ---------------------------------------------------
    Case(
        "report-missing-folder",
        lambda tmp: ["report", str(tmp / "nope")],
        ["nope", "no results.json"],
    ),
    Case("report-folder-without-results", lambda tmp: ["report", str(tmp)], ["no results.json"]),
    Case(
        "report-not-json",
        report(lambda d: _write(d / "results.json", b"{oops")),
        ["results.json", "not valid JSON"],
    ),
    Case(
        "report-binary",
        report(lambda d: _write(d / "results.json", b"\xff\xfe\x00")),
        ["results.json", "cannot read"],
    ),
    Case(
        "report-not-a-results-file",
        report(lambda d: _write(d / "results.json", b"[1, 2]")),
        ["results.json", "not a spec-harness results file"],
    ),
    Case(
        "report-wrong-schema-version",
        report(_edit_results(lambda data: data.update(schema_version=99))),
        ["results.json", "schema_version", "version 99 is not supported"],
    ),
    Case(
        "report-nan-metric",
        report(_edit_results(_set_nan_accuracy)),
        ["results.json", "models.0.seeds.0.test.accuracy", "not a finite number (nan)", "re-run"],
    ),
    Case(
        "report-infinite-metric",
        report(_edit_results(_set_infinite_fr)),
        ["results.json", "models.0.aggregate.mean_fr", "(inf)"],
    ),
    Case(
        "report-overflowing-number",
        report(
            lambda d: _write(
                d / "results.json",
                (d / "results.json")
                .read_bytes()
                .replace(b'"accuracy": 0.', b'"accuracy": 1e999, "x": 0.', 1),
            )
        ),
        ["results.json", "accuracy", "inf"],
    ),
    Case(
        "report-schema-mismatch",
        report(_edit_results(_set_accuracy)),
        ["results.json", "models.0.seeds.0.test.accuracy"],
    ),
    Case(
        "report-broken-samples",
        report(
            lambda d: (d / "samples.jsonl").open("a").write("{half a line\n"),
            "--format",
            "html",
            "-o",
            "REPORT",
        ),
        ["samples.jsonl:", "re-run"],
    ),
    Case("report-unknown-format", report(None, "--format", "pdf"), ["--format", "'pdf'"]),
    Case(
        "report-output-is-folder",
        lambda tmp: ["report", str(valid_run(tmp)), "-o", str(tmp)],
        ["--output", "directory"],
    ),
    # --- other commands ------------------------------------------------------------------------
    Case(
        "specs-validate-missing",
        lambda tmp: ["specs", "validate", str(tmp / "x.yaml")],
        ["x.yaml", "no such spec file"],
    ),
    Case(
        "specs-preview-unknown",
        lambda tmp: ["specs", "preview", "dmeo"],
        ["unknown spec suite 'dmeo'"],
    ),
    # --- spec YAML (through `harness run --specs path.yaml`) --------------------------------
    Case(
        "spec-undefined-slot",
        spec(SPEC_OK.replace("what {{ x", "what {{ y")),
        ["suite.yaml:8", "undefined slot 'y'"],
    ),
    Case("spec-unknown-filter", spec(SPEC_OK.replace("a_an", "shout")), ["suite.yaml:8", "shout"]),
    Case(
        "spec-duplicate-id",
        spec(SPEC_OK + SPEC_OK.split("specs:\n")[1]),
        ["suite.yaml", "duplicate spec id 'insult'"],
    ),
    Case(
        "spec-label-not-in-task",
        spec(
            SPEC_OK.replace("[non-toxic, toxic]", "[spam, ham]").replace(
                "label: toxic", "label: spam"
            )
        ),
        ["label 'spam'", "non-toxic, toxic"],
    ),
    Case(
        "spec-label-not-in-suite",
        spec(SPEC_OK.replace("label: toxic", "label: toxc")),
        ["suite.yaml:5", "'toxc'"],
    ),
    Case("spec-empty-file", spec(""), ["suite.yaml", "empty"]),
    Case(
        "spec-yaml-syntax",
        spec(SPEC_OK.replace("slots: {x:", "slots: {x")),
        ["suite.yaml:", "YAML"],
    ),
    Case(
        "spec-unknown-key",
        spec(SPEC_OK.replace("templates:", "templtes:", 1)),
        ["suite.yaml:7", "'templtes'"],
    ),
    Case(
        "spec-no-heldout",
        spec(SPEC_OK.split("    heldout_templates")[0]),
        ["suite.yaml", "held-out"],
    ),
    Case(
        "spec-lone-surrogate",
        spec(SPEC_OK.replace("[idiot,", '["idiot\\ud800",')),
        ["suite.yaml:6", "lone surrogate"],
    ),
    Case(
        "spec-jinja-syntax",
        spec(SPEC_OK.replace("you {{ x }}", "you {{ x }")),
        ["suite.yaml:7", "syntax"],
    ),
    Case(
        "spec-yaml-bomb",
        spec(YAML_BOMB.replace("task: demo\n", "suite: x\n")),
        ["suite.yaml", "YAML bomb"],
    ),
]


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _snapshot(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1)
        for p in sorted(root.rglob("*"))
    }


def test_corpus_is_large_and_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case: Case, tmp_path: Path, isolated_cache: Path
) -> None:
    work = tmp_path / "case"
    work.mkdir()
    args = case.build(work)
    if args[0] == "run" and not case.own_output_dir:
        args += ["--output-dir", str(work / "out")]
    args = [str(work / "report.html") if a == "REPORT" else a for a in args]
    before = _snapshot(tmp_path)
    cache_before = _snapshot(isolated_cache)

    result = CliRunner().invoke(cli, args)

    stderr = result.stderr
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    assert "Traceback" not in result.output
    assert "\x1b" not in result.output, "a terminal control sequence was printed raw"
    assert result.stdout == ""
    assert stderr.endswith("\n"), stderr
    *before_error, line = stderr.splitlines()
    assert all(w.startswith("warning: ") for w in before_error), f"not one line: {stderr!r}"
    assert ERROR_LINE.match(line), f"not `error: ...; fix`: {line!r}"
    for expected in case.expect:
        assert expected.format(tmp=work) in line, f"{expected!r} not in {line!r}"
    assert _snapshot(tmp_path) == before, "the failed run wrote or changed files"
    if not case.late:
        assert _snapshot(isolated_cache) == cache_before, "the failed run wrote to the cache"


def test_debug_flag_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_DEBUG", "")  # `--debug` sets it; restored after the test
    path = tmp_path / "run.yaml"
    path.write_text("modle: bow\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--debug", "run", "--config", str(path)])
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "UserError"
