"""``hf``: any Hugging Face sequence classifier (hub id or local folder) fine-tuned with torch.

``AutoTokenizer`` + ``AutoModelForSequenceClassification`` with a new head sized to the task's
labels. Training: AdamW (no decay on biases and norms), linear warm-up and decay, gradient clipping,
fp32 on CPU and bf16 (or fp16 with loss scaling) autocast on GPU, seeded. Inference runs under
``torch.inference_mode`` on length-sorted batches padded to their own longest text, then restores
the input order. Transformers logging is kept at ``error`` level so loading prints nothing.
``class_weight`` (``balanced`` or ``{label: weight}``, see :mod:`harness.class_weights`) weights
each training example's cross-entropy by its label's weight.

``pretrained`` is checked when the arguments are validated (before any work starts): a local
folder must exist and hold ``config.json`` (nothing is read beyond that); a hub id must be in the
local Hugging Face cache or answer one quick request to the hub.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

import harness
from harness.api import (
    ClassWeight,
    EpochCallback,
    LocalPathOrName,
    Model,
    Register,
    StrictModel,
    Texts,
    TorchModel,
    UnitResources,
)
from harness.errors import UserError, os_error_from
from harness.input_files import read_bytes

if TYPE_CHECKING:
    import torch

    from harness.progress import Progress

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,95}(/[A-Za-z0-9][\w.\-]{0,95})?$")
HUB_TIMEOUT_S = 3.0
FIELD = "model_args.pretrained"
NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "layernorm.weight", "norm.weight")
LAYER_INDEX = re.compile(r"\.(?:layer|layers|h|block|blocks)\.(\d+)\.")


# ------------------------------------------------------------------------------------------------
# Validating ``pretrained`` quickly, before any work
# ------------------------------------------------------------------------------------------------


def _looks_like_path(value: str) -> bool:
    return (
        value.startswith(("/", ".", "~"))
        or "\\" in value
        or value.count("/") > 1
        or not HUB_ID.match(value)
        or ".." in value
        or "--" in value
    )


def check_local_folder(path: Path, value: str) -> str:
    """Return the resolved folder if it exists and holds ``config.json``; else a UserError."""
    if not path.exists():
        raise UserError(
            f"no such folder {value!r}",
            field=FIELD,
            fix="give an existing local model folder or a Hugging Face hub id",
        )
    if not path.is_dir():
        raise UserError(
            f"{value!r} is a file, not a model folder",
            field=FIELD,
            fix="give the folder that holds config.json and the weights",
        )
    if not (path / "config.json").is_file():
        raise UserError(
            f"folder {value!r} holds no config.json",
            field=FIELD,
            fix="give a folder written by save_pretrained (config.json, weights, tokenizer)",
        )
    return str(path.resolve())


def check_hub_id(repo_id: str, revision: str | None = None) -> None:
    """Accept a hub id found in the local cache, or one the hub confirms with one quick request.

    Raises a :class:`UserError` when offline (``HF_HUB_OFFLINE``) and not cached, when the hub
    cannot be reached within a few seconds, or when the hub says the model does not exist.
    """
    from huggingface_hub import constants, try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    if isinstance(cached, str):
        return
    offline = constants.HF_HUB_OFFLINE or os.environ.get("TRANSFORMERS_OFFLINE") in ("1", "true")
    if offline:
        raise UserError(
            f"hub model {repo_id!r} is not in the local cache and the hub is disabled "
            "(HF_HUB_OFFLINE)",
            field=FIELD,
            fix="download it once while online, or give a local folder",
        )
    url = f"{constants.ENDPOINT}/api/models/{repo_id}"
    if revision:
        url += f"/revision/{revision}"
    request = urllib.request.Request(url, method="HEAD")
    token = os.environ.get("HF_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HUB_TIMEOUT_S):
            return
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403, 404):
            raise UserError(
                f"no model {repo_id!r} on the Hugging Face hub (HTTP {exc.code}), "
                "and no such local folder",
                field=FIELD,
                fix="check the spelling, log in for gated models, or give a local folder",
            ) from None
        return  # the hub answered: let from_pretrained report anything else
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"the Hugging Face hub is unreachable ({reason}) and {repo_id!r} is neither cached "
            "nor a local folder",
            field=FIELD,
            fix="give a local model folder (e.g. from save_pretrained) or go online",
        ) from None


def check_pretrained(value: str, revision: str | None = None) -> str:
    """Validate ``pretrained``: an existing local model folder (returned resolved) or a hub id."""
    value = value.strip()
    if not value:
        raise UserError("is empty", field=FIELD, fix="give a local model folder or a hub id")
    path = Path(value).expanduser()
    if path.exists() or _looks_like_path(value):
        return check_local_folder(path, value)
    check_hub_id(value, revision)
    return value


class HfArgs(StrictModel):
    """Arguments of the ``hf`` model (``--model-args``)."""

    pretrained: LocalPathOrName = Field(
        description="hub id or local folder (save_pretrained layout); a relative folder is "
        "resolved like every path (next to the config file, or from the current folder)"
    )
    revision: str | None = Field(default=None, description="hub revision (branch, tag, commit)")
    epochs: float = Field(default=3, gt=0, le=100, description="training epochs (may be < 1)")
    lr: float = Field(default=5e-5, gt=0, lt=1, description="peak learning rate")
    batch_size: int = Field(default=32, ge=1, le=4096, description="training batch size")
    eval_batch_size: int = Field(default=128, ge=1, le=65536, description="inference batch size")
    max_length: int = Field(default=128, ge=8, le=8192, description="tokens kept per text")
    warmup_ratio: float = Field(default=0.1, ge=0, le=1, description="share of warm-up steps")
    weight_decay: float = Field(default=0.01, ge=0, le=1)
    max_grad_norm: float | None = Field(default=1.0, gt=0, description="clip; null to disable")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto", description="auto: fp32 on CPU, bf16 (else fp16) autocast on GPU"
    )
    class_weight: ClassWeight = Field(
        default=None,
        description="weight the loss per label: balanced (n / (k * count)) or {label: weight}",
    )
    processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="data-parallel training processes through accelerate (DDP): one GPU each on "
        "cuda, gloo on CPU; each takes batch_size / processes of every batch",
    )
    gradient_accumulation_steps: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="split every batch into this many micro-batches (less memory; the same "
        "update up to float rounding)",
    )
    gpus_per_process: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="share of a GPU one training process needs (0.5: two units share a GPU "
        "under the ray executor); with processes: 1 only",
    )

    @model_validator(mode="after")
    def _check_pretrained(self) -> HfArgs:
        self.pretrained = check_pretrained(self.pretrained, self.revision)
        if self.processes > 1 and self.gpus_per_process < 1:
            raise ValueError("processes > 1 needs whole GPUs (gpus_per_process: 1)")
        return self


def folder_fingerprint(path: Path) -> str:
    """A cheap content fingerprint of a local model folder: names, sizes and mtimes of its files
    (plus the text of ``config.json``), so a changed checkpoint gets a new cache key."""
    digest = hashlib.sha256()
    for item in sorted(path.iterdir()):
        if item.is_file():
            stat = item.stat()
            digest.update(f"{item.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    digest.update(read_bytes(path / "config.json"))
    return digest.hexdigest()[:32]


def quiet_transformers() -> None:
    """Silence transformers' load reports, warnings and progress bars (errors still show)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# ------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------


class HfModel(TorchModel[HfArgs]):
    """A transformers sequence classifier fine-tuned with a plain torch loop."""

    name = "hf"
    description = (
        "Hugging Face sequence classifier (hub id or local folder via pretrained=); "
        "fine-tuned with AdamW, warm-up/decay, autocast on GPU"
    )
    Args = HfArgs
    supports_epoch_callback = True
    """With ``on_epoch_end``, ``fit`` predicts the whole training set after every epoch (in
    evaluation mode, as the cartography paper defines the dynamics): a forward pass over the
    training set, about a third of an epoch's compute, per epoch."""

    _model: Any = None
    """The transformers model, loaded on first use."""
    _tokenizer: Any = None

    # -- building ---------------------------------------------------------------------------------
    def _load(self, source: str, new_head: bool) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        quiet_transformers()
        args: HfArgs = self.args
        revision = args.revision if new_head else None
        try:
            if self._tokenizer is None or not new_head:
                self._tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
            kwargs: dict[str, Any] = {"num_labels": self.num_labels}
            if new_head:
                kwargs["ignore_mismatched_sizes"] = True
            model = AutoModelForSequenceClassification.from_pretrained(
                source, revision=revision, dtype=torch.float32, **kwargs
            )
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"cannot load {source!r}: {first}",
                field=FIELD,
                fix="give a folder or hub id of a model with a sequence-classification head",
            ) from exc
        tokenizer = self._tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        self._model = model.to(self.device)
        self._model.eval()

    @property
    def module(self) -> torch.nn.Module:
        """The ``PreTrainedModel`` (loaded from ``pretrained`` with a new head on first use)."""
        if self._model is None:
            self._load(self.args.pretrained, new_head=True)
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The tokenizer (loaded with the model)."""
        if self._tokenizer is None:
            self.module  # noqa: B018 - loads both
        return self._tokenizer

    def fingerprint(self) -> dict[str, Any]:
        """Model args (without inference-only ones), the label names when ``class_weight`` is
        set, and a fingerprint of a local folder."""
        data = super().fingerprint()
        data["args"] = self.args.model_dump(
            mode="json", exclude={"eval_batch_size", "gpus_per_process"}
        )
        source = Path(self.args.pretrained)
        if source.is_dir():
            data["folder"] = folder_fingerprint(source)
        return data

    # -- tokens and batches -----------------------------------------------------------------------
    def _max_length(self) -> int:
        limit = getattr(self.tokenizer, "model_max_length", None) or 10**9
        return int(min(self.args.max_length, limit if limit < 10**7 else 10**9))

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (truncated to ``max_length``, special tokens added)."""
        if len(texts) == 0:
            return []
        out = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self._max_length(),
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return list(out["input_ids"])

    def collate(self, sequences: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
        """Pad ``sequences`` to their longest and return ``input_ids``/``attention_mask``."""
        import torch

        width = max(len(s) for s in sequences)
        ids = np.full((len(sequences), width), self.tokenizer.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(sequences), width), dtype=np.int64)
        left = getattr(self.tokenizer, "padding_side", "right") == "left"
        for i, seq in enumerate(sequences):
            if left:
                ids[i, width - len(seq) :] = seq
                mask[i, width - len(seq) :] = 1
            else:
                ids[i, : len(seq)] = seq
                mask[i, : len(seq)] = 1
        cuda = self.device.startswith("cuda")
        return {
            "input_ids": torch.from_numpy(ids).to(self.device, non_blocking=cuda),
            "attention_mask": torch.from_numpy(mask).to(self.device, non_blocking=cuda),
        }

    def autocast_dtype(self) -> torch.dtype | None:
        """The autocast dtype for this device and ``precision`` (``None``: plain fp32)."""
        if not hasattr(self, "_autocast_dtype"):
            self._autocast_dtype = self._pick_autocast_dtype()
        return self._autocast_dtype

    def _pick_autocast_dtype(self) -> torch.dtype | None:
        import torch

        precision = self.args.precision
        if not self.device.startswith("cuda") or precision == "fp32":
            return None
        if precision == "fp16":
            return torch.float16
        if precision == "bf16" or torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        dtype = self.autocast_dtype()
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=dtype)

    def sorted_batches(
        self, sequences: Sequence[Sequence[int]], batch_size: int
    ) -> Iterator[np.ndarray]:
        """Indices of ``sequences`` in batches of similar length (longest first)."""
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(order), batch_size):
            yield order[start : start + batch_size]

    # -- TorchModel -------------------------------------------------------------------------------
    def logits(self, texts: Sequence[str]) -> torch.Tensor:
        """Logits ``(n, num_labels)`` (float32) with gradients enabled."""
        batch = self.collate(self.encode(texts))
        with self._autocast():
            return self.module(**batch).logits.float()

    def parameter_names(self, which: str) -> list[str]:
        """``head``: the classification head (and a pooler feeding it); ``last``: the last
        encoder layer + head; ``all``: everything; anything else: a regular expression."""
        named = [name for name, _ in self.module.named_parameters()]
        prefix = getattr(self.module, "base_model_prefix", "") + "."
        head = [n for n in named if not n.startswith(prefix) or ".pooler." in n]
        if which == "head":
            return head
        if which == "all":
            return named
        if which == "last":
            indices = [int(m.group(1)) for n in named if (m := LAYER_INDEX.search(n))]
            if not indices:
                return head
            marker = f".{max(indices)}."
            last = [
                n
                for n in named
                if (m := LAYER_INDEX.search(n)) and m.group(0).endswith(marker) and n not in head
            ]
            return last + head
        return self.names_matching(list(named), which)

    # -- training ---------------------------------------------------------------------------------
    def _optimizer(self) -> torch.optim.Optimizer:
        import torch

        decay: list[torch.nn.Parameter] = []
        no_decay: list[torch.nn.Parameter] = []
        for name, param in self.module.named_parameters():
            if not param.requires_grad:
                continue
            (no_decay if name.endswith(NO_DECAY) else decay).append(param)
        groups = [
            {"params": decay, "weight_decay": self.args.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        fused = self.device.startswith("cuda") or None  # None: torch's default
        return torch.optim.AdamW(groups, lr=self.args.lr, fused=fused)

    def unit_resources(self) -> UnitResources:
        """One CPU per training process; on cuda, ``processes`` x ``gpus_per_process`` GPUs."""
        args: HfArgs = self.args
        gpus = args.processes * args.gpus_per_process if self.device.startswith("cuda") else 0.0
        return UnitResources(cpus=float(args.processes), gpus=gpus)

    def fit(
        self,
        texts: Texts,
        labels: np.ndarray,
        seed: int,
        progress: Progress | None = None,
        on_epoch_end: EpochCallback | None = None,
    ) -> None:
        """Fine-tune from ``pretrained`` (fresh head, initialised with ``seed``); the
        cross-entropy is weighted per label when ``class_weight`` is set. With ``processes``
        > 1 (and not already inside a launched process group) training runs under ``accelerate
        launch`` in that many processes (:mod:`harness_plugins.models.hf_distributed`) and the
        trained weights are loaded back.

        ``on_epoch_end`` receives the class probabilities of the training examples after every
        pass over them (a last, partial pass included). A callback cannot cross ``accelerate
        launch``, so with it the training runs in this one process, whatever ``processes`` says
        (the same update up to float rounding, see :meth:`fit_here`)."""
        from accelerate.state import PartialState

        launch = self.args.processes > 1 and PartialState().num_processes == 1
        if launch and on_epoch_end is None:
            from harness_plugins.models.hf_distributed import fit_launched

            fit_launched(self, texts, labels, seed, progress)
            return
        if launch and progress is not None:
            progress.log(
                f"training {self.name} in one process: recording every epoch's probabilities "
                f"needs them here (processes: {self.args.processes} ignored)",
                style="dim",
            )
        self.fit_here(texts, labels, seed, progress, on_epoch_end)

    def fit_here(
        self,
        texts: Texts,
        labels: np.ndarray,
        seed: int,
        progress: Progress | None = None,
        on_epoch_end: EpochCallback | None = None,
    ) -> None:
        """The training loop in this process, through ``accelerate.Accelerator``: device
        placement, mixed precision (bf16 / fp16 with loss scaling on GPU) and, inside a process
        group (``accelerate launch``), DDP. Every process draws the same batches (same seed);
        process ``r`` of ``R`` takes rows ``r::R`` of each batch and scales its summed loss so
        that DDP's gradient average equals the whole batch's mean loss: the update is the
        single-process one up to float rounding. ``on_epoch_end`` (see :meth:`fit`) is called
        after every pass over the data, with the model in evaluation mode."""
        import torch
        from accelerate import Accelerator
        from transformers import get_linear_schedule_with_warmup

        from harness.class_weights import class_weight_vector, weighted_cross_entropy

        args: HfArgs = self.args
        vector = class_weight_vector(args.class_weight, self.label_names, labels)
        torch.manual_seed(seed)
        self._load(args.pretrained, new_head=True)
        precision = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(
            self.autocast_dtype(),  # type: ignore[arg-type]
            "no",
        )
        accelerator = Accelerator(cpu=not self.device.startswith("cuda"), mixed_precision=precision)
        ranks, rank = accelerator.num_processes, accelerator.process_index
        device = accelerator.device
        weights = (  # on the training device once, not per batch
            None if vector is None else torch.tensor(vector, dtype=torch.float32, device=device)
        )
        sequences = self.encode(texts)
        y_all = torch.as_tensor(np.asarray(labels, dtype=np.int64))
        n = len(sequences)
        per_epoch = max(1, -(-n // args.batch_size))
        total = max(1, int(round(args.epochs * per_epoch)))
        optimizer = self._optimizer()
        scheduler = get_linear_schedule_with_warmup(
            optimizer, int(args.warmup_ratio * total), total
        )
        model, optimizer = accelerator.prepare(self._model, optimizer)
        plain = ranks == 1 and args.gradient_accumulation_steps == 1
        rng = np.random.default_rng(seed)
        model.train()
        bar = progress.task(f"training {self.name}", total) if progress else None
        step = 0
        epoch = 0
        with bar if bar is not None else contextlib.nullcontext() as handle:
            while step < total:
                order = rng.permutation(n)
                for start in range(0, n, args.batch_size):
                    if step >= total:
                        break
                    idx = order[start : start + args.batch_size]
                    mine = idx[rank::ranks]
                    parts = list(np.array_split(mine, args.gradient_accumulation_steps))
                    for i, part in enumerate(parts):
                        last = i == len(parts) - 1
                        sync = contextlib.nullcontext() if last else accelerator.no_sync(model)
                        with sync:
                            batch = (
                                self.collate([sequences[j] for j in part]) if len(part) else None
                            )
                            if batch is None:  # fewer rows than processes: a zero loss
                                loss = sum(p.sum() * 0.0 for p in model.parameters())
                            else:
                                batch = {k: v.to(device) for k, v in batch.items()}
                                target = y_all[part].to(device, non_blocking=True)
                                logits = model(**batch).logits.float()
                                if plain:
                                    loss = weighted_cross_entropy(logits, target, weights)
                                else:  # this part's share of the whole batch's mean loss
                                    losses = torch.nn.functional.cross_entropy(
                                        logits, target, reduction="none"
                                    )
                                    if weights is not None:
                                        losses = losses * weights[target]
                                    loss = losses.sum() * (ranks / len(idx))
                            accelerator.backward(loss)
                    if args.max_grad_norm:
                        accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    step += 1
                    if handle is not None:
                        handle.advance()
                if on_epoch_end is not None:
                    on_epoch_end(epoch, self.predict_proba(texts))
                    model.train()
                epoch += 1
        self._model = accelerator.unwrap_model(model, keep_fp32_wrapper=False)
        self._model.eval()

    # -- inference --------------------------------------------------------------------------------
    def _forward_sorted(
        self, texts: Sequence[str], width: int, fn: Any, progress: Progress | None, what: str
    ) -> np.ndarray:
        import torch

        module = self.module
        module.eval()
        sequences = self.encode(texts)
        out = np.zeros((len(texts), width), dtype=np.float32)
        if not sequences:
            return out
        batches = list(self.sorted_batches(sequences, self.args.eval_batch_size))
        bar = progress.task(what, len(texts)) if progress else None
        with (
            bar if bar is not None else contextlib.nullcontext() as handle,
            torch.inference_mode(),
            self._autocast(),
        ):
            pending: list[tuple[np.ndarray, torch.Tensor]] = []
            for idx in batches:
                batch = self.collate([sequences[i] for i in idx])
                pending.append((idx, fn(module, batch)))
                if len(pending) >= 8:  # copy back in groups: fewer device syncs
                    for p_idx, values in pending:
                        out[p_idx] = values.float().cpu().numpy()
                    pending.clear()
                if handle is not None:
                    handle.advance(len(idx))
            for p_idx, values in pending:
                out[p_idx] = values.float().cpu().numpy()
        return out

    def predict_proba(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Softmax probabilities ``(n, num_labels)`` in input order."""
        import torch

        def probs(module: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            return torch.softmax(module(**batch).logits.float(), dim=-1)

        return self._forward_sorted(texts, self.num_labels, probs, progress, "predicting hf")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled last hidden state of the encoder, one row per text."""

        def pooled(module: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            hidden = module.base_model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

        module: Any = self.module  # a transformers PreTrainedModel: config is its own
        width = int(module.config.hidden_size)
        return self._forward_sorted(texts, width, pooled, None, "embedding")

    # -- persistence ------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """``save_pretrained`` (safetensors) of model and tokenizer, plus ``harness.json``."""
        from safetensors import SafetensorError

        directory.mkdir(parents=True, exist_ok=True)
        module: Any = self.module  # a transformers PreTrainedModel
        try:
            module.save_pretrained(str(directory))
        except SafetensorError as exc:  # disk full, file-size limit: an OSError for the cache
            raise os_error_from(exc) from exc
        self.tokenizer.save_pretrained(str(directory))
        self.save_info(directory, "harness.json")

    def load(self, directory: Path) -> None:
        """Read a model written by :meth:`save` onto this instance's device."""
        self._tokenizer = None
        self._load(str(directory), new_head=False)


@harness.hookimpl
def register_models(register: Register[type[Model]]) -> None:
    """Register the ``hf`` model."""
    register(HfModel)
