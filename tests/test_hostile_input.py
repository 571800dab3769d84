"""Hostile input: small files that would make the harness allocate without bound, read forever or
hang, and faults while writing. Every case must end in one ``error:`` line and exit status 2,
quickly and in bounded memory, with nothing half-written.

The dangerous cases (a 10^12 slot product, filter amplification, ``/dev/zero``, FIFOs, a
file-size limit) run in ONE worker subprocess whose address space is capped at
:data:`ADDRESS_SPACE` and which is killed after :data:`TIMEOUT_S`: a regression then fails these
tests (MemoryError or timeout) instead of exhausting the machine. The worker invokes the CLI
in-process for each case (``CliRunner``), so the harness and torch are imported once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from benchmarks.common import REPO_ROOT, python_command, run_capped
from harness.cli import cli
from harness.errors import UserError

ADDRESS_SPACE = 2 * 2**30
"""The worker's address-space cap (torch needs a little over 1 GiB of address space)."""

TIMEOUT_S = 240.0

WORKER = r"""
import json, resource, sys
from click.testing import CliRunner
from harness.cli import cli

cases = json.loads(open(sys.argv[1], encoding="utf-8").read())
results = {}
for case in cases:
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if case.get("fsize"):
        resource.setrlimit(resource.RLIMIT_FSIZE, (case["fsize"], hard))
    try:
        done = CliRunner().invoke(cli, case["args"], env=case.get("env") or {})
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    error = done.exception
    results[case["id"]] = {
        "exit": done.exit_code,
        "stdout": done.stdout[-3000:],
        "stderr": done.stderr[-3000:],
        "exception": None if error is None or isinstance(error, SystemExit) else repr(error),
    }
print(json.dumps(results))
"""


# ---------------------------------------------------------------------------------------------
# Generated inputs
# ---------------------------------------------------------------------------------------------


def product_suite(
    path: Path, n_slots: int = 6, values: int = 100, max_cases: int | None = None
) -> Path:
    """One spec whose template combines ``n_slots`` slots of ``values`` values each."""
    names = [f"s{i}" for i in range(n_slots)]
    lines = ["suite: product", "labels: [non-toxic, toxic]", "slots:"]
    for name in names:
        lines.append(f"  {name}: [{', '.join(f'{name}v{i}' for i in range(values))}]")
    lines += ["specs:", "  - id: huge", "    label: toxic"]
    if max_cases is not None:
        lines.append(f"    max_cases: {max_cases}")
    slots = " ".join("{{ %s }}" % n for n in names)  # noqa: UP031 - jinja braces
    lines += [f'    templates: ["you {slots}"]', f'    heldout_templates: ["what {slots} is"]', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def template_suite(path: Path, template: str) -> Path:
    """A one-spec suite whose D_i template is ``template``."""
    path.write_text(
        "suite: amplify\nlabels: [non-toxic, toxic]\nslots: {x: [idiot, fool]}\nspecs:\n"
        "  - id: amplify\n    label: toxic\n"
        f"    templates: [{json.dumps(template)}]\n"
        '    heldout_templates: ["what {{ x }} you are"]\n',
        encoding="utf-8",
    )
    return path


def small_suite(path: Path, n_specs: int, per_split: int = 30) -> Path:
    """``n_specs`` honest specs of ``per_split`` cases per split."""
    values = ", ".join(f"w{i}" for i in range(per_split))
    lines = ["suite: small", "labels: [non-toxic, toxic]", f"slots: {{x: [{values}]}}", "specs:"]
    for i in range(n_specs):
        lines += [
            f"  - id: s{i}",
            "    label: toxic",
            f'    templates: ["you {i} {{{{ x }}}}"]',
            f'    heldout_templates: ["what {i} {{{{ x }}}} is"]',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


AMPLIFICATIONS = {
    "replace": ("{{ ('x'*10000)|replace('x', 'y'*10000*10) }}", "filter 'replace'"),
    "join": ("{{ ('x'*10000*4)|list|join('y'*10000*10) }}", "filter 'join'"),
    "format": ("{{ '%99999999s'|format('x') }}", "filter 'format'"),
    "percent": ("{{ '%99999999s' % x }}", "the formatting ('%')"),
    "list-repeat": ("{{ [x]*10000*10*10 }}", "the repetition ('*')"),
    "center": ("{{ x|center(10000*10000) }}", "filter 'center'"),
    "indent": ("{{ ('a\\n'*10000)|indent('y'*10000*10) }}", "filter 'indent'"),
    "wordwrap": ("{{ ('a '*10000)|wordwrap(1, wrapstring='y'*10000*10) }}", "filter 'wordwrap'"),
    "batch": ("{{ [x]|batch(10000*10000, 'y')|list }}", "filter 'batch'"),
    "slice": ("{{ [x]|slice(10000*10000)|list }}", "filter 'slice'"),
    "concat-tilde": (
        "{% set a = 'y'*10000*10 %}{{ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a }}",
        "the concatenation ('~')",
    ),
    "concat-plus": ("{% set a = 'y'*10000*10 %}{{ a + a }}", "the concatenation ('+')"),
    "output": ("{% set a = 'y'*10000*10 %}{{ a }}{{ a }}{{ a }}", "the template's output"),
    "number": (
        "{% set n = 10000*10000 %}{% set n = n*n %}{% set n = n*n %}{% set n = n*n %}{{ n }}",
        "number above 2**128",
    ),
    "sum-lists": ("{{ [[x]*10000, [x]*10000]|sum(start=[]) }}", "filter 'sum'"),
    "list-literal": (
        "{% set a = 'y'*10000*10 %}{{ [a, a, a, a, a, a, a, a, a, a] }}",
        "an output expression",
    ),
    "filter-argument": (
        "{% set a = 'y'*10000*10 %}{{ x|replace('i', [a, a, a, a, a, a, a, a]) }}",
        "an argument of filter 'replace'",
    ),
}
"""Templates that try to build a value far above the sandbox bound, and what the error names."""


@dataclass
class Hostile:
    """One case for the capped worker."""

    id: str
    args: list[str]
    expect: list[str] = field(default_factory=list)
    exit: int = 2
    env: dict[str, str] = field(default_factory=dict)
    fsize: int | None = None
    """RLIMIT_FSIZE (bytes) while the case runs: writes beyond it fail with EFBIG."""
    after: Callable[[dict[str, Any]], None] | None = None


def build_cases(tmp: Path, run_dir: Path) -> list[Hostile]:
    """Write every hostile input under ``tmp`` and return the cases."""
    cases: list[Hostile] = []
    product = product_suite(tmp / "product.yaml")
    cases.append(
        Hostile(
            "product-validate",
            ["specs", "validate", str(product)],
            ["product.yaml:", "huge", "1,000,000,000,000 cases", "max_cases"],
        )
    )
    run_out = tmp / "product-out"
    cases.append(
        Hostile(
            "product-run",
            ["run", "--specs", str(product), "--output-dir", str(run_out), "--limit", "50"],
            ["huge", "D_i would have 1,000,000,000,000 cases"],
            after=lambda _: None if not run_out.exists() else pytest.fail("run folder left"),
        )
    )
    sampled = product_suite(tmp / "sampled.yaml", max_cases=50)
    cases.append(
        Hostile("product-sampled", ["specs", "validate", str(sampled)], ["100 case(s)"], exit=0)
    )
    beyond = product_suite(tmp / "beyond.yaml", n_slots=12, max_cases=5)  # 10^24 > 2^63
    cases.append(
        Hostile("product-beyond-int64", ["specs", "validate", str(beyond)], ["10 case(s)"], exit=0)
    )
    suite = small_suite(tmp / "three.yaml", 3)
    cases.append(
        Hostile(
            "suite-total",
            ["specs", "validate", str(suite)],
            ["three.yaml:", "more than 100 cases", "HARNESS_MAX_SUITE_CASES"],
            env={"HARNESS_MAX_SUITE_CASES": "100"},
        )
    )
    cases.append(
        Hostile(
            "spec-limit-raised",
            ["specs", "validate", str(suite)],
            ["180 case(s)"],
            exit=0,
            env={"HARNESS_MAX_SPEC_CASES": "30", "HARNESS_MAX_SUITE_CASES": "180"},
        )
    )
    for name, (template, what) in AMPLIFICATIONS.items():
        path = template_suite(tmp / f"amp-{name}.yaml", template)
        cases.append(
            Hostile(
                f"amplify-{name}",
                ["specs", "validate", str(path)],
                [f"amp-{name}.yaml:", "amplify/train-1", what],
            )
        )
    replace_out = tmp / "replace-out"
    cases.append(
        Hostile(
            "amplify-replace-run",
            [
                "run",
                "--specs",
                str(tmp / "amp-replace.yaml"),
                "--output-dir",
                str(replace_out),
                "--limit",
                "50",
            ],
            ["filter 'replace'", "limit of 100,000"],
            after=lambda _: None if not replace_out.exists() else pytest.fail("run folder left"),
        )
    )
    long_case = template_suite(tmp / "long.yaml", "{{ 'y' * 10000 * 2 }}")
    cases.append(
        Hostile(
            "case-too-long",
            ["specs", "validate", str(long_case)],
            ["renders a case of 20,000 characters", "HARNESS_MAX_CASE_CHARS"],
        )
    )
    cases.append(
        Hostile(
            "case-limit-raised",
            ["specs", "validate", str(long_case)],
            ["ok: 1 suite(s)"],
            exit=0,
            env={"HARNESS_MAX_CASE_CHARS": "30000"},
        )
    )
    # --- files that are not regular, or too large -----------------------------------------
    zero_spec = tmp / "zero.yaml"
    zero_spec.symlink_to("/dev/zero")
    cases.append(
        Hostile("devzero-spec", ["specs", "validate", str(zero_spec)], ["zero.yaml", "device"])
    )
    zero_config = tmp / "zero-run.yaml"
    zero_config.symlink_to("/dev/zero")
    cases.append(
        Hostile(
            "devzero-config", ["run", "--config", str(zero_config)], ["zero-run.yaml", "device"]
        )
    )
    test_csv = tmp / "test.csv"
    test_csv.write_text("text,label\nhi,ok\nidiot,bad\n", encoding="utf-8")
    cases.append(
        Hostile(
            "devzero-data",
            ["run", "--task", "files", "--task-args", f"train=/dev/zero,test={test_csv}"],
            ["/dev/zero", "task_args.train", "device"],
        )
    )
    table = tmp / "table.csv"
    table.write_text("spec,text,label\na,x,toxic\n", encoding="utf-8")
    cases.append(
        Hostile(
            "devzero-descriptions",
            ["specs", "validate", str(table), "--option", "descriptions=/dev/zero"],
            ["/dev/zero", "device"],
        )
    )
    fifo_spec = tmp / "fifo.yaml"
    os.mkfifo(fifo_spec)
    cases.append(Hostile("fifo-spec", ["specs", "validate", str(fifo_spec)], ["fifo.yaml", "FIFO"]))
    fifo_config = tmp / "fifo-run.yaml"
    os.mkfifo(fifo_config)
    cases.append(Hostile("fifo-config", ["run", "--config", str(fifo_config)], ["FIFO"]))
    big_config = tmp / "big.yaml"
    big_config.write_text("task: demo\n" + "# padding\n" * 220_000, encoding="utf-8")
    cases.append(
        Hostile(
            "config-too-large",
            ["run", "--config", str(big_config)],
            ["big.yaml", "2.1 MiB", "limit of 1 MiB", "HARNESS_MAX_FILE_MB"],
            env={"HARNESS_MAX_FILE_MB": "1"},
        )
    )
    big_train = tmp / "big.csv"
    big_train.write_text("text,label\n" + "hello there,ok\nyou idiot,bad\n" * 80_000, "utf-8")
    cases.append(
        Hostile(
            "data-too-large",
            ["run", "--task", "files", "--task-args", f"train={big_train},test={test_csv}"],
            ["big.csv", "task_args.train", "limit of 1 MiB", "HARNESS_MAX_DATA_MB"],
            env={"HARNESS_MAX_DATA_MB": "1"},
        )
    )
    cases.append(
        Hostile(
            "limit-not-a-number",
            ["specs", "validate", str(suite)],
            ["HARNESS_MAX_FILE_MB", "not a positive integer"],
            env={"HARNESS_MAX_FILE_MB": "lots"},
        )
    )
    zero_results = tmp / "zero-results"
    shutil.copytree(run_dir, zero_results)
    (zero_results / "results.json").unlink()
    (zero_results / "results.json").symlink_to("/dev/zero")
    cases.append(
        Hostile("devzero-results", ["report", str(zero_results)], ["results.json", "device"])
    )
    zero_samples = tmp / "zero-samples"
    shutil.copytree(run_dir, zero_samples)
    (zero_samples / "samples.jsonl").unlink()
    (zero_samples / "samples.jsonl").symlink_to("/dev/zero")
    report_out = tmp / "report.md"
    cases.append(
        Hostile(
            "devzero-samples",
            ["report", str(zero_samples), "--format", "md", "-o", str(report_out)],
            ["samples.jsonl", "device"],
            after=lambda _: None if not report_out.exists() else pytest.fail("report written"),
        )
    )
    # --- a file-size limit (ulimit -f) while the run writes ---------------------------------
    fsize_out, fsize_cache = tmp / "fsize-out", tmp / "fsize-cache"

    def nothing_half_written(_: dict[str, Any]) -> None:
        assert not fsize_out.exists(), "the failed run left its output folder"
        leftovers = [p for p in fsize_cache.rglob("*") if p.name.startswith(".")]
        assert not leftovers, f"temporary cache files left: {leftovers}"

    cases.append(
        Hostile(
            "write-file-too-large",
            [
                "run",
                "-q",
                "--limit",
                "60",
                "--interventions",
                "",
                "--model-args",
                "epochs=1",
                "--output-dir",
                str(fsize_out),
            ],
            ["cannot write", str(fsize_cache), "File too large", "ulimit -f"],
            env={"HARNESS_CACHE_DIR": str(fsize_cache)},
            fsize=200_000,
            after=nothing_half_written,
        )
    )
    return cases


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished run (M0 only), built once for this module."""
    home = tmp_path_factory.mktemp("finished-run")
    args = ["run", "-q", "--limit", "100", "--interventions", "", "--device", "cpu"]
    args += ["--model-args", "epochs=1", "--output-dir", str(home / "out")]
    done = CliRunner().invoke(cli, args, env={"HARNESS_CACHE_DIR": str(home / "cache")})
    assert done.exit_code == 0, done.output
    (run_dir,) = list((home / "out").iterdir())
    return run_dir


@pytest.fixture(scope="module")
def hostile_results(
    tmp_path_factory: pytest.TempPathFactory, finished_run: Path
) -> tuple[dict[str, Any], dict[str, Hostile], Any]:
    """Run every hostile case in one capped worker; return its results, the cases and the
    worker's process record (exit status, wall time, peak RSS)."""
    tmp = tmp_path_factory.mktemp("hostile")
    cases = build_cases(tmp, finished_run)
    spec = tmp / "cases.json"
    spec.write_text(
        json.dumps([{"id": c.id, "args": c.args, "env": c.env, "fsize": c.fsize} for c in cases]),
        encoding="utf-8",
    )
    process = run_capped(
        python_command("-c", WORKER, str(spec)),
        address_space_bytes=ADDRESS_SPACE,
        timeout=TIMEOUT_S,
        env={"HARNESS_CACHE_DIR": str(tmp / "cache")},
        cwd=REPO_ROOT,
    )
    assert not process.timed_out, f"the hostile cases took over {TIMEOUT_S:.0f} s"
    assert not process.out_of_memory, f"a hostile case hit the memory cap: {process.stderr[-2000:]}"
    assert process.returncode == 0, process.stderr[-3000:]
    results = json.loads(process.stdout.strip().splitlines()[-1])
    return results, {c.id: c for c in cases}, process


def _case_ids() -> list[str]:
    """Case ids without building inputs (for parametrisation)."""
    ids = [
        "product-validate",
        "product-run",
        "product-sampled",
        "product-beyond-int64",
        "suite-total",
        "spec-limit-raised",
        *(f"amplify-{name}" for name in AMPLIFICATIONS),
        "amplify-replace-run",
        "case-too-long",
        "case-limit-raised",
        "devzero-spec",
        "devzero-config",
        "devzero-data",
        "devzero-descriptions",
        "fifo-spec",
        "fifo-config",
        "config-too-large",
        "data-too-large",
        "limit-not-a-number",
        "devzero-results",
        "devzero-samples",
        "write-file-too-large",
    ]
    return ids


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_every_case_is_listed(
    hostile_results: tuple[dict[str, Any], dict[str, Hostile], Any],
) -> None:
    results, cases, process = hostile_results
    assert sorted(cases) == sorted(_case_ids()) == sorted(results)
    assert process.peak_rss_mb < ADDRESS_SPACE / 2**20


@pytest.mark.parametrize("case_id", _case_ids())
def test_hostile_input_is_bounded_and_one_line(
    case_id: str, hostile_results: tuple[dict[str, Any], dict[str, Hostile], Any]
) -> None:
    results, cases, _ = hostile_results
    case, result = cases[case_id], results[case_id]
    assert result["exception"] is None, result["exception"]
    assert result["exit"] == case.exit, f"exit {result['exit']}: {result['stderr']}"
    if case.exit == 2:
        assert result["stdout"] == ""
        *before, line = result["stderr"].splitlines()
        assert all(w.startswith("warning: ") for w in before), result["stderr"]
        assert line.startswith("error: ") and "; " in line, line
        assert "Traceback" not in result["stderr"]
        text = line
    else:
        text = result["stdout"] + result["stderr"]
    for expected in case.expect:
        assert expected in text, f"{expected!r} not in {text!r}"
    if case.after is not None:
        case.after(result)


# ---------------------------------------------------------------------------------------------
# In-process checks (inputs small enough to be harmless if a bound regressed)
# ---------------------------------------------------------------------------------------------


def test_plugin_filter_results_are_bounded(tmp_path: Path) -> None:
    import harness
    from harness.plugins import get_plugin_manager
    from harness.specs.compiler import compile_suite_file

    class Exploding:
        @harness.hookimpl
        def prepare_jinja2_environment(self, env: Any) -> None:
            env.filters["explode"] = lambda s: str(s) * 200_000

    get_plugin_manager().register(Exploding(), name="exploding")
    path = template_suite(tmp_path / "suite.yaml", "{{ x | explode }}")
    with pytest.raises(UserError) as info:
        compile_suite_file(path)
    assert "filter 'explode'" in info.value.one_line()
    assert "limit of 100,000" in info.value.one_line()


def test_bounds_leave_ordinary_templates_alone(tmp_path: Path) -> None:
    from harness.specs.compiler import compile_suite_file

    template = (
        "{% set who = x | upper %}{{ '%s is %s' % (who, x) }} ~ {{ [x, x] | join(', ') }} "
        "{{ x | replace('o', '0') | center(12) }} {{ (x ~ ' ') * 3 }}"
    )
    suite = compile_suite_file(template_suite(tmp_path / "suite.yaml", template))
    texts = sorted(c.text for c in suite.specs[0].train_cases)
    assert texts[0] == "FOOL is fool ~ fool, fool f00l fool fool fool"


def test_node_count_and_alias_expansion_are_separate_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness import yamlio
    from harness.specs.compiler import compile_suite_file

    many = small_suite(tmp_path / "many.yaml", 400, per_split=2)
    assert compile_suite_file(many).specs[-1].id == "s399"  # an honest suite loads
    monkeypatch.setattr(yamlio, "YAML_NODES", 2_000)
    with pytest.raises(UserError) as info:
        compile_suite_file(many)
    line = info.value.one_line().split("many.yaml:")[1]  # after the line number
    assert "more than 2,000 YAML nodes" in line and "alias" not in line
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"k{i}: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" for i in range(3000)),
        encoding="utf-8",
    )
    monkeypatch.setattr(yamlio, "YAML_NODES", 1_000_000)
    with pytest.raises(UserError) as info:
        compile_suite_file(bomb)
    assert "anchors and aliases expand the document by more than 200,000 nodes" in str(info.value)


def _add_sample(run_dir: Path, text: str, spec_id: str | None = None) -> None:
    """Add a failing held-out case with ``text`` to the run's samples.jsonl."""
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    spec = spec_id or results["specs"][0]["id"]
    label = results["specs"][0]["label"]
    other = next(n for n in results["task"]["label_names"] if n != label)
    row = {
        "seed": results["seeds"][0],
        "set": "heldout",
        "id": "huge#0",
        "spec_id": spec,
        "template_id": "huge",
        "text": text,
        "label": label,
        "predictions": {"M0": other},
    }
    path = run_dir / "samples.jsonl"  # first, so that it is among the examples shown
    path.write_text(json.dumps(row) + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_reports_cap_long_texts(fmt: str, finished_run: Path, tmp_path: Path) -> None:
    run_dir = Path(shutil.copytree(finished_run, tmp_path / "run"))
    _add_sample(run_dir, "word " * 400_000)  # a 2 MB case text
    output = tmp_path / f"report.{fmt}"
    done = CliRunner().invoke(cli, ["report", str(run_dir), "--format", fmt, "-o", str(output)])
    assert done.exit_code == 0, done.output
    report = output.read_text(encoding="utf-8")
    assert len(report) < 500_000
    assert re.search(r"… \(1,999,5\d\d more characters\)", report)  # says what was cut
    assert "word " * 400_000 in (run_dir / "samples.jsonl").read_text(encoding="utf-8")


def test_console_output_escapes_control_sequences(finished_run: Path, tmp_path: Path) -> None:
    run_dir = Path(shutil.copytree(finished_run, tmp_path / "run"))
    path = run_dir / "results.json"
    raw = path.read_text(encoding="utf-8")
    spec_id = json.loads(raw)["specs"][0]["id"]
    hostile = spec_id + "\x1b[2J\x1b]0;pwned\x07\u202e"
    path.write_text(raw.replace(json.dumps(spec_id), json.dumps(hostile)), encoding="utf-8")
    done = CliRunner().invoke(cli, ["report", str(run_dir)])
    assert done.exit_code == 0, done.output
    assert "\x1b" not in done.output and "\x07" not in done.output and "\u202e" not in done.output
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\u202e" in done.output


def test_specs_preview_and_errors_escape_control_sequences(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        'suite: ctl\nlabels: [a, b]\nspecs:\n  - id: "evil\\e[2J"\n    label: a\n'
        '    cases: {train: ["x\\e]0;title\\a y"], heldout: ["z\\e[31m w"]}\n',
        encoding="utf-8",
    )
    for command in (["specs", "preview", str(suite)], ["specs", "stats", str(suite)]):
        done = CliRunner().invoke(cli, command)
        assert done.exit_code == 0, done.output
        assert "\x1b" not in done.output and "\\x1b[2J" in done.output
    done = CliRunner().invoke(cli, ["run", "--specs", str(tmp_path / "no\x1b[2J.yaml")])
    assert done.exit_code == 2
    assert "\x1b" not in done.output and "no\\x1b[2J.yaml" in done.output


def _run_args(out: Path) -> list[str]:
    return ["run", "-q", "--limit", "60", "--interventions", "", "--model-args", "epochs=1"] + [
        "--output-dir",
        str(out),
    ]


def test_disk_full_while_writing_samples_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import harness.atomic

    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp") and "samples" in os.readlink(
            f"/proc/self/fd/{fd}"
        ):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(harness.atomic.os, "fsync", full_disk)
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, _run_args(out))
    assert done.exit_code == 2, done.output
    line = done.stderr.strip()
    assert (
        line.startswith("error: cannot write ") and "samples.jsonl: No space left on device" in line
    )
    assert "free disk space" in line
    assert not out.exists(), "the failed run left its folder"


def test_unwritable_run_folder_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import tempfile

    real_mkstemp = tempfile.mkstemp

    def denied(*args: Any, **kwargs: Any) -> Any:
        if "config.json" in str(kwargs.get("prefix", "")):
            raise PermissionError(errno.EACCES, "Permission denied", str(kwargs.get("dir")))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    done = CliRunner().invoke(cli, _run_args(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    line = done.stderr.strip()
    assert "cannot write" in line and "config.json: Permission denied" in line
    assert "make the folder writable" in line


def test_safetensors_write_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safetensors.torch
    from safetensors import SafetensorError

    def full(*args: Any, **kwargs: Any) -> None:
        raise SafetensorError(
            "Error while serializing: I/O error: No space left on device (os error 28)"
        )

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    cache = Path(os.environ["HARNESS_CACHE_DIR"])
    done = CliRunner().invoke(cli, _run_args(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    line = done.stderr.strip()
    assert line.startswith(f"error: cannot write {cache / 'models'}")
    assert "No space left on device; free disk space" in line
    assert not [p for p in (cache / "models").iterdir()], "a partial cache entry was left"


def test_printable_escapes_terminal_controls_and_keeps_text() -> None:
    from harness.display import printable

    assert printable("a\x1b[2Jb\x9b\x07\u202e\u2066c") == "a\\x1b[2Jb\\x9b\\x07\\u202e\\u2066c"
    assert printable("line\nnext\ttab") == "line\\nnext\\ttab"
    kept = "naïve café 日本語 emoji 👩‍💻 שלום\u200f عربي\u200c"  # joiners and RTL marks stay
    assert printable(kept) == kept


def test_shortened_says_what_it_cut_and_is_idempotent() -> None:
    from harness.display import shortened

    assert shortened("short", 10) == "short"
    cut = shortened("x" * 10_000, 100)
    assert len(cut) == 100 and cut.endswith(f"… ({10_000 - cut.index('…'):,} more characters)")
    assert shortened(cut, 100) == cut


def test_limits_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.limits import DATA_MB, SPEC_CASES

    assert SPEC_CASES.value() == 100_000 and DATA_MB.value() == 1024 * 2**20
    monkeypatch.setenv("HARNESS_MAX_SPEC_CASES", "250000")
    monkeypatch.setenv("HARNESS_MAX_DATA_MB", "4096")
    assert SPEC_CASES.value() == 250_000 and DATA_MB.value() == 4096 * 2**20
    assert SPEC_CASES.shown() == "250,000 cases" and DATA_MB.shown() == "4,096 MiB"
    monkeypatch.setenv("HARNESS_MAX_SPEC_CASES", "0")
    with pytest.raises(UserError, match="HARNESS_MAX_SPEC_CASES='0' is not a positive integer"):
        SPEC_CASES.value()
