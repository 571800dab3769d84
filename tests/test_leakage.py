"""Held-out spec cases planted in the pool, the train split, the test split and D_i: the exact
counts found by ``harness specs validate --task files``, by ``harness run`` (``results.json``,
warnings) and the seen / unseen failure rates of the models that trained on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import harness
from harness.api import (
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Spec,
    SpecCase,
    SpecSuite,
    StrictModel,
)
from harness.cli import cli
from harness.specs.leakage import Corpus, HeldoutIndex, find_leakage
from harness.specs.normalise import normalise_text

INSULT_HELDOUT = [
    "You are an idiot, Sam.",  # 0: in the pool verbatim
    "What a clown Kim is.",  # 1: in the pool as "WHAT a clown kim is!!"
    "Lena is such a fool.",  # 2: in the pool with an @mention and a URL
    "Omar is a moron.",  # 3: in the test split verbatim
    "Alex is a total idiot.",  # 4: in train, other case and punctuation
    "Nobody likes a liar like Tom.",
    "Rita is a pathetic cheat.",
    "Dan is a worthless fraud.",
    "Eve acts like a brainless troll.",
    "Max is a spineless coward.",
]
PLANTED_POOL = [
    ("You are an idiot, Sam.", "bad"),
    ("WHAT a clown kim is!!", "bad"),
    ("@lena_x Lena is such a fool http://t.co/abc123", "bad"),
]
PLANTED_TEST = [("Omar is a moron.", "bad")]
PLANTED_TRAIN = [("alex is a TOTAL idiot", "bad")]
PRAISE_HELDOUT = [f"Thank you so much for the help number {i}, friend." for i in range(10)]

OK_WORDS = ["lovely", "kind", "great", "helpful", "wonderful", "friendly", "sweet", "gentle"]
BAD_WORDS = ["stupid", "dumb", "awful", "horrible", "nasty", "rotten", "vile", "gross"]
NAMES = ["Ann", "Bob", "Cid", "Dee", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo"]


def rows(n: int, offset: int) -> list[tuple[str, str]]:
    """``n`` generated rows, alternating labels, texts distinct from every spec case."""
    out = []
    for i in range(n):
        name = NAMES[(i + offset) % len(NAMES)]
        if i % 2:
            out.append((f"{name} said something {BAD_WORDS[i % 8]} again {i + offset}", "bad"))
        else:
            out.append((f"{name} was {OK_WORDS[i % 8]} to me today {i + offset}", "ok"))
    return out


def write_csv(path: Path, data: list[tuple[str, str]]) -> str:
    """A ``text,label`` CSV (texts quoted)."""
    lines = ["text,label"] + [f"{json.dumps(text)},{label}" for text, label in data]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


SUITE = """\
suite: planted
labels: [bad, ok]
specs:
  - id: insult
    label: bad
    description: insults of a named person are toxic
    cases:
      train: {insult_train}
      heldout: {insult_heldout}
  - id: praise
    label: ok
    description: thanks are not toxic
    cases:
      train: {praise_train}
      heldout: {praise_heldout}
"""


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, str]:
    """Files of a small task and a suite with held-out texts planted in pool, test and train."""
    suite = SUITE.format(
        insult_train=json.dumps([f"You total {w} of a person, {n}" for w, n in zip(
            BAD_WORDS, NAMES, strict=False)]),
        insult_heldout=json.dumps(INSULT_HELDOUT),
        praise_train=json.dumps([f"I owe you one, {n}, truly" for n in NAMES[:8]]),
        praise_heldout=json.dumps(PRAISE_HELDOUT),
    )  # fmt: skip
    (tmp_path / "suite.yaml").write_text(suite, encoding="utf-8")
    return {
        "train": write_csv(tmp_path / "train.csv", rows(60, 0) + PLANTED_TRAIN),
        "test": write_csv(tmp_path / "test.csv", rows(20, 100) + PLANTED_TEST),
        "pool": write_csv(tmp_path / "pool.csv", rows(17, 200) + PLANTED_POOL),
        "suite": str(tmp_path / "suite.yaml"),
    }


def task_args(files: dict[str, str]) -> str:
    """``--task-args`` for the files task."""
    return f"train={files['train']},test={files['test']},pool={files['pool']}"


def invoke(*args: str) -> Result:
    """Run ``harness ARGS``."""
    return CliRunner().invoke(cli, list(args))


EXPECTED_INSULT = {
    "n_heldout": 10,
    "leaked": 5,
    "in_training_data": 4,
    "exact": 2,
    "normalised": 3,
    "near": 0,
    "in_train": 1,
    "in_pool": 3,
    "in_pool_sources": {"pool": 3},
    "in_test": 1,
    "in_d_i": 0,
    "in_other_d_i": 0,
}


def test_normaliser_folds_case_punctuation_urls_and_mentions() -> None:
    assert normalise_text("WHAT a clown kim is!!") == normalise_text("What a clown Kim is.")
    assert normalise_text("@lena_x Lena is such a fool http://t.co/abc123") == (
        "lena is such a fool"
    )
    assert normalise_text("RT @a: you&amp;me  www.x.org") == "you me"
    assert normalise_text("you're") == normalise_text("you 're") == "you re"
    assert normalise_text("http://only.a/url") == ""
    assert normalise_text("Ａｌｅｘ") == "alex"  # full-width letters (NFKC)
    assert normalise_text("Sam is an idiot") != normalise_text("an idiot is Sam")


def test_ascii_fast_path_matches_the_regex_normaliser() -> None:
    import random

    from harness.specs.normalise import NON_WORD

    rng = random.Random(0)
    for _ in range(5000):
        text = "".join(chr(rng.randrange(128)) for _ in range(rng.randrange(30)))
        if any(mark in text.lower() for mark in ("&", "@", "/", "www.")):
            continue  # entities, mentions and URLs are removed first
        assert normalise_text(text) == " ".join(NON_WORD.sub(" ", text.casefold()).split())


def test_validate_with_task_counts_planted_cases(planted: dict[str, str]) -> None:
    result = invoke(
        "specs", "validate", planted["suite"], "--task", "files", "--task-args", task_args(planted)
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert (
        "insult: 3 of 10 held-out case(s) appear in the task's pool (1 verbatim, 2 after "
        "normalisation), e.g. 'You are an idiot, Sam.': a retrain may select them" in out
    )
    assert (
        "insult: 1 of 10 held-out case(s) appear in the task's train split after normalisation"
        in out
    )
    assert "train split after normalisation (case, " in out
    assert "e.g. 'Alex is a total idiot.'" in out  # the held-out case, as the suite writes it
    assert "insult: 1 of 10 held-out case(s) appear in the test split (1 verbatim, 0 after" in out
    assert "after normalisation), e.g. 'Omar is a moron.'" in out
    assert (
        "leakage: suite 'planted': 5 of 20 held-out case(s) found elsewhere, 4 in data a model "
        "may train on (1 of 2 spec(s) affected): train 1, pool 3, D_i 0, test 1; 2 verbatim, "
        "3 only after normalisation; 0 near-duplicate(s) of D_i" in out
    )
    assert "praise" not in out.replace("praise_", "")
    strict = invoke(
        "specs", "validate", planted["suite"], "--strict",
        "--task", "files", "--task-args", task_args(planted),
    )  # fmt: skip
    assert strict.exit_code == 2
    assert strict.output.count("error: ") == 3


def test_stats_json_counts_with_task(planted: dict[str, str]) -> None:
    result = invoke(
        "specs", "stats", planted["suite"], "--json",
        "--task", "files", "--task-args", task_args(planted),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stats = {row["spec_id"]: row for row in json.loads(result.output)}
    insult = stats["insult"]
    assert (insult["heldout_in_task_train"], insult["heldout_in_task_pool"]) == (1, 3)
    assert (insult["heldout_in_task_test"], insult["heldout_normalised_only"]) == (1, 3)
    assert stats["praise"]["heldout_in_task_pool"] == 0


def test_other_specs_d_i_and_several_pool_sources() -> None:
    def case(spec: str, split: str, text: str, i: int) -> SpecCase:
        return SpecCase(id=f"{spec}-{split}-{i}", text=text, spec_id=spec, split=split)  # type: ignore[arg-type]

    a = Spec(
        id="a",
        description="",
        label="x",
        train_cases=[case("a", "train", "alpha beta gamma", 0)],
        heldout_cases=[case("a", "heldout", t, i) for i, t in enumerate(["B one!", "shared"])],
    )
    b = Spec(
        id="b",
        description="",
        label="x",
        train_cases=[case("b", "train", "b ONE", 0)],
        heldout_cases=[case("b", "heldout", "delta", 0)],
    )
    corpora = [
        Corpus("pool", "general", ["shared", "noise"]),
        Corpus("pool", "policy", ["SHARED.", "delta"]),
    ]
    analysis = find_leakage([SpecSuite(name="s", specs=[a, b])], corpora)
    by_id = {s.spec_id: s for s in analysis.report.specs}
    assert (by_id["a"].in_d_i, by_id["a"].in_other_d_i) == (1, 1)
    assert by_id["a"].in_pool == 1 and by_id["a"].in_pool_sources == {"general": 1, "policy": 1}
    assert (by_id["a"].exact, by_id["a"].normalised) == (1, 1)
    assert by_id["b"].in_pool_sources == {"policy": 1}
    total = analysis.report.total
    assert (total.leaked, total.in_pool, total.n_specs_leaking) == (3, 2, 2)
    assert total.in_pool_sources == {"general": 1, "policy": 2}
    assert analysis.report.corpora == {"pool/general": 2, "pool/policy": 2, "D_i": 2}


def test_heldout_index_finds_normalised_training_texts() -> None:
    spec = Spec(
        id="a",
        description="",
        label="x",
        heldout_cases=[
            SpecCase(id=f"h{i}", text=t, spec_id="a", split="heldout")
            for i, t in enumerate(["You are an idiot, Sam.", "fresh text", "!!!"])
        ],
    )
    index = HeldoutIndex([spec])
    seen = index.seen(["@x you are an IDIOT sam http://t.co/1", "other", "?"])
    assert index.seen_mask("a", seen) == [True, False, False]


def run_planted(planted: dict[str, str], out: Path, *extra: str) -> Result:
    """``harness run`` on the planted task: bow, one seed, a random retrain that takes the whole
    pool (budget = pool size)."""
    return invoke(
        "run", "--task", "files", "--task-args", task_args(planted),
        "--specs", planted["suite"], "--model", "bow", "--model-args", "epochs=2",
        "--interventions", "retrain", "--budget", "20", "--seeds", "1",
        "--output-dir", str(out), "-q", *extra,
    )  # fmt: skip


def read_run(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``results.json`` and ``samples.jsonl`` of the only run under ``out``."""
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    result = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    samples = [
        json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines() if line
    ]
    return result, samples


def test_run_stores_leakage_and_warns_with_totals(planted: dict[str, str], tmp_path: Path) -> None:
    result = run_planted(planted, tmp_path / "runs")
    assert result.exit_code == 0, result.output
    data, _ = read_run(tmp_path / "runs")
    leakage = data["leakage"]
    insult = next(s for s in leakage["specs"] if s["spec_id"] == "insult")
    assert {k: insult[k] for k in EXPECTED_INSULT} == EXPECTED_INSULT
    assert insult["suite"] == "planted"
    total = leakage["total"]
    assert (total["leaked"], total["in_training_data"], total["n_specs_leaking"]) == (5, 4, 1)
    assert leakage["suites"]["planted"]["in_pool"] == 3
    assert leakage["corpora"] == {"train": 61, "pool": 20, "test": 21, "D_i": 16}
    out = result.output
    assert (
        "warning: leakage in suite 'planted': 5 of 20 held-out case(s) found elsewhere, 4 in "
        "data a model may train on" in out
    )
    assert "insult: 3 of 10 held-out case(s) appear in the task's pool" in out


def test_run_marks_seen_cases_per_model(planted: dict[str, str], tmp_path: Path) -> None:
    result = run_planted(planted, tmp_path / "runs")
    assert result.exit_code == 0, result.output
    data, samples = read_run(tmp_path / "runs")
    models = {m["id"]: m for m in data["models"]}
    (m0,) = models["M0"]["seeds"]
    (retrain,) = models["retrain-random"]["seeds"]
    # M0 trained on the train split only: the one case planted there (other case, no dot)
    assert m0["n_seen"] == {"insult": 1}
    assert m0["training_texts"] == {"base": "train", "n_base": 61, "n_added": 0, "declared": True}
    # the retrain took the whole pool: three planted pool texts plus the train one
    assert retrain["n_seen"] == {"insult": 4}
    assert retrain["training_texts"] == {
        "base": "train_split", "n_base": 81, "n_added": 0, "declared": True,
    }  # fmt: skip
    assert retrain["heldout_unseen"]["insult"]["n"] == 6
    assert m0["heldout_unseen"]["insult"]["n"] == 9
    assert m0["heldout_unseen"]["praise"] == m0["heldout"]["praise"]
    by_text = {r["text"]: r for r in samples if r["set"] == "heldout"}
    assert by_text["Alex is a total idiot."]["seen_by"] == ["M0", "retrain-random"]
    for text in INSULT_HELDOUT[:3]:
        assert by_text[text]["seen_by"] == ["retrain-random"]
    assert by_text["Omar is a moron."]["seen_by"] == []  # only in the test split
    assert all(by_text[text]["seen_by"] == [] for text in PRAISE_HELDOUT)
    assert all("seen_by" not in r for r in samples if r["set"] != "heldout")
    # unseen FR recomputed from samples.jsonl agrees with results.json
    for model_id, seed in (("M0", m0), ("retrain-random", retrain)):
        rows = [
            r for r in samples
            if r.get("spec_id") == "insult" and r["set"] == "heldout"
            and model_id not in r["seen_by"]
        ]  # fmt: skip
        failures = sum(r["predictions"][model_id] != r["label"] for r in rows)
        assert seed["heldout_unseen"]["insult"]["failures"] == failures
        agg = models[model_id]["aggregate"]
        seen_rows = [r for r in samples if model_id in r.get("seen_by", [])]
        assert agg["n_seen"] == len(seen_rows)
        seen_fail = sum(r["predictions"][model_id] != r["label"] for r in seen_rows)
        assert agg["seen_fr"] == pytest.approx(seen_fail / len(seen_rows))
        unseen = seed["heldout_unseen"]
        expected = (unseen["insult"]["fr"] + unseen["praise"]["fr"]) / 2
        assert agg["unseen_mean_fr"] == pytest.approx(expected, abs=1e-6)


def test_clean_run_has_no_seen_cases(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = invoke(
        "run", "--task-args", "n_train=200,n_test=60,n_pool=100", "--model-args", "epochs=1",
        "--interventions", "retrain,patch", "--budget", "50", "--output-dir", str(out), "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data, samples = read_run(out)
    assert data["leakage"]["total"]["leaked"] == 0
    for model in data["models"]:
        (seed,) = model["seeds"]
        assert seed["heldout_unseen"] == {} and seed["n_seen"] == {}
        assert model["aggregate"]["n_seen"] == 0
        assert model["aggregate"]["unseen_mean_fr"] == model["aggregate"]["mean_fr"]
    patch = next(m for m in data["models"] if m["id"] == "patch")
    n_d_i = sum(s["n_train_cases"] for s in data["specs"])
    assert patch["seeds"][0]["training_texts"] == {
        "base": "base_model", "n_base": 200, "n_added": n_d_i, "declared": True,
    }  # fmt: skip
    assert all(r["seen_by"] == [] for r in samples if r["set"] == "heldout")
    assert "warning" not in result.output


class ReuseArgs(StrictModel):
    """Arguments of :class:`ReuseM0`."""

    declare: bool = False


class ReuseM0(Intervention):
    """Returns M0 itself, as a fine-tuning intervention would return a tuned copy; with
    ``declare`` it says it also trained on the first held-out text of the planted suite."""

    name = "reuse-m0"
    description = "test intervention: M0, with or without declared extra texts"
    Args = ReuseArgs

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        """Return M0, declaring ``added_training_texts`` when asked to."""
        added = [f"@someone {INSULT_HELDOUT[0].upper()}"] if self.args.declare else None
        return InterventionOutcome(model=ctx.base_model, added_training_texts=added)


class ReusePlugin:
    """Registers :class:`ReuseM0`."""

    @harness.hookimpl
    def register_interventions(self, register: Any) -> None:
        """Register ``reuse-m0``."""
        register(ReuseM0)


def test_interventions_declare_what_they_trained_on(
    planted: dict[str, str], tmp_path: Path
) -> None:
    from harness.plugins import get_plugin_manager

    get_plugin_manager().register(ReusePlugin(), name="reuse-plugin")
    config = tmp_path / "run.yaml"
    config.write_text(
        "task: files\n"
        f"task_args: {{train: {planted['train']}, test: {planted['test']}, "
        f"pool: {planted['pool']}}}\n"
        f"specs: [{planted['suite']}]\nmodel: bow\nmodel_args: {{epochs: 1}}\nseeds: [0]\n"
        "interventions:\n"
        "  - {name: reuse-m0, label: silent}\n"
        "  - {name: reuse-m0, label: declared, params: {declare: true}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "runs"
    result = invoke("run", "--config", str(config), "--output-dir", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert (
        "warning: silent: intervention 'reuse-m0' returned a model not trained through "
        "ctx.train_model and declared no training texts" in result.output
    )
    assert "warning: declared:" not in result.output
    data, samples = read_run(out)
    models = {m["id"]: m["seeds"][0] for m in data["models"]}
    assert models["silent"]["training_texts"] == {
        "base": "base_model", "n_base": 61, "n_added": 0, "declared": False,
    }  # fmt: skip
    assert models["silent"]["n_seen"] == models["M0"]["n_seen"] == {"insult": 1}
    assert models["declared"]["training_texts"]["declared"] is True
    assert models["declared"]["n_seen"] == {"insult": 2}
    first = next(r for r in samples if r["text"] == INSULT_HELDOUT[0])
    assert first["seen_by"] == ["declared"]


def test_every_report_shows_leakage_totals_and_seen_fr(
    planted: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    assert run_planted(planted, out).exit_code == 0
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    data, _ = read_run(out)
    aggregates = {m["id"]: m["aggregate"] for m in data["models"]}
    unseen = {k: f"{100 * a['unseen_mean_fr']:.1f}" for k, a in aggregates.items()}
    console = invoke("report", str(run_dir))
    assert console.exit_code == 0, console.output
    text = " ".join(console.output.split())
    assert "Seen / unseen held-out cases" in text
    assert "suite planted: 5 of 20 held-out case(s) found elsewhere, 4 in data a model" in text
    assert "most affected: insult (5 of 10: train 1, pool 3, test 1)" in text
    markdown = invoke("report", str(run_dir), "--format", "md")
    assert "| planted | 1 of 2 | 20 | 5 | 4 | 1 | 3 | 0 | 1 | 2 | 3 | 0 |" in markdown.output
    for model_id, n in (("M0", 1), ("retrain-random", 4)):
        assert any(
            line.startswith(f"| **{model_id}** | {n} |") and f"| {unseen[model_id]} |" in line
            for line in markdown.output.splitlines()
        )
    page = invoke("report", str(run_dir), "--format", "html").output
    assert "Leakage: held-out cases found elsewhere" in page
    assert '<td>planted</td><td class="n">1 of 2</td>' in page
    assert f">{unseen['retrain-random']}</td>" in page
    board = json.loads(invoke("report", str(run_dir), "--format", "json").output)
    assert board["runs"][0]["leakage"]["in_pool"] == 3
    rows = {r["row"]: r for r in board["rows"]}
    assert (rows["M0"]["n_seen"], rows["retrain-random"]["n_seen"]) == (1, 4)


def test_leakage_per_pool_source(planted: dict[str, str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.csv"
    policy.write_text(
        'guideline,sentence,labels\ng1,"WHAT a clown kim is!!",bad\ng2,"be nice to people",ok\n',
        encoding="utf-8",
    )
    config = tmp_path / "run.yaml"
    config.write_text(
        "task: files\n"
        f"task_args:\n  train: {planted['train']}\n  test: {planted['test']}\n  pool:\n"
        f"    - {{name: general, path: {planted['pool']}}}\n"
        f"    - {{name: policy, path: {policy}, text_column: sentence, label_column: labels}}\n"
        f"specs: [{planted['suite']}]\nmodel: bow\nmodel_args: {{epochs: 1}}\nseeds: [0]\n"
        "budget: 22\ninterventions: [retrain]\n",
        encoding="utf-8",
    )
    out = tmp_path / "runs"
    result = invoke("run", "--config", str(config), "--output-dir", str(out), "-q")
    assert result.exit_code == 0, result.output
    data, samples = read_run(out)
    insult = next(s for s in data["leakage"]["specs"] if s["spec_id"] == "insult")
    assert insult["in_pool"] == 3  # the general pool also holds the planted clown text
    assert insult["in_pool_sources"] == {"general": 3, "policy": 1}
    assert data["leakage"]["corpora"]["pool/policy"] == 2
    assert "pool 3 (general 3, policy 1)" in " ".join(result.output.split())
    assert "(general 3, 1 verbatim; policy 1, 0 verbatim)" in " ".join(result.output.split())
    (retrain,) = next(m for m in data["models"] if m["id"] == "retrain-random")["seeds"]
    assert retrain["n_seen"] == {"insult": 4}
