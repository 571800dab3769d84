"""``patch``: constrained fine-tuning of M0 on the specs' D_i cases (Zhu et al. 2020,
"Modifying Memories in Transformer Models").

A copy of M0 (saved and loaded into a fresh instance) is fine-tuned on every spec's D_i cases,
labelled with the spec's label, optionally mixed with ``replay`` examples drawn from ``train``
(the "mix-in" baseline). After every optimiser step every tuned weight is clamped into
``[θ0 - δ, θ0 + δ]`` (an L-infinity ball around M0). The bounds are rounded inwards in the weights'
own precision, so the largest ``|θ - θ0|`` recorded in ``changes["max_abs_delta"]`` never exceeds
``δ``. ``delta: null`` is unconstrained fine-tuning, the baseline.

Default ``δ`` (``delta: auto``): the model class's ``default_patch_delta``
(:attr:`harness.api.Model.default_patch_delta`), else 5e-4, for transformer models (the paper's
regime). For ``bow`` (hashed n-gram embeddings + MLP trained
with Adam at lr 0.01) we measured on the demo (3 seeds, all parameters, 5 epochs, Adam lr 1e-3;
mean held-out spec FR / test accuracy; M0: 0.305 / 98.90):

====================  =======  ========
δ                     spec FR  test acc
====================  =======  ========
5e-4                  0.304    98.97
0.005                 0.292    98.97
0.01                  0.282    98.73
0.02                  0.254    98.27
0.05                  0.227    97.20
null (unconstrained)  0.225    97.13
====================  =======  ========

so 5e-4 barely moves a ``bow`` model, and δ = 0.02 keeps about two thirds of the unconstrained
FR drop at a third of its accuracy cost: that is the ``bow`` default
(``BowModel.default_patch_delta``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, field_validator

import harness
from harness.api import (
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Model,
    Register,
    StrictModel,
    TorchModel,
)
from harness.cache import hash_texts
from harness.errors import UserError

if TYPE_CHECKING:
    import torch

TRANSFORMER_DELTA = 5e-4
"""``delta: auto`` for a model class that declares no ``default_patch_delta``."""


class PatchArgs(StrictModel):
    """Parameters of ``patch``."""

    delta: float | Literal["auto"] | None = Field(
        default="auto", description="L-inf radius around M0; null = unconstrained; auto = per model"
    )
    params: str = Field(
        default="all", description="head | last | all | a regex over parameter names"
    )
    epochs: int = Field(default=5, ge=1)
    steps: int | None = Field(default=None, ge=1, description="optimiser steps (overrides epochs)")
    lr: float = Field(default=1e-3, gt=0)
    batch_size: int = Field(default=32, ge=1)
    optimizer: Literal["adam", "sgd"] = "adam"
    replay: int = Field(default=0, ge=0, description="train examples mixed in (mix-in baseline)")

    @field_validator("delta")
    @classmethod
    def _non_negative(cls, value: Any) -> Any:
        if isinstance(value, float) and value < 0:
            raise ValueError("delta must be >= 0 (or null for unconstrained, or auto)")
        return value


def resolve_delta(delta: float | str | None, model: Model) -> float | None:
    """The radius to use for ``model``: ``auto`` -> the model's default."""
    if delta != "auto":
        return None if delta is None else float(delta)
    declared = type(model).default_patch_delta
    return TRANSFORMER_DELTA if declared is None else float(declared)


def copy_model(model: Model, fresh: Model) -> Model:
    """Load ``model``'s weights into ``fresh`` through save/load (no shared tensors)."""
    with tempfile.TemporaryDirectory(prefix="harness-patch-") as tmp:
        model.save(Path(tmp))
        fresh.load(Path(tmp))
    return fresh


def ball_bounds(theta0: torch.Tensor, delta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``[θ0 - δ, θ0 + δ]`` in ``θ0``'s dtype, rounded inwards so that, in float64,
    ``|bound - θ0| <= δ`` holds exactly."""
    import torch

    exact = theta0.detach().double()
    low = (exact - delta).to(theta0.dtype)
    high = (exact + delta).to(theta0.dtype)
    up = torch.full_like(theta0, float("inf"))
    low = torch.where(exact - low.double() > delta, torch.nextafter(low, up), low)
    high = torch.where(high.double() - exact > delta, torch.nextafter(high, -up), high)
    return low, high


def max_abs_delta(params: Sequence[torch.Tensor], theta0: Sequence[torch.Tensor]) -> float:
    """Largest ``|θ - θ0|`` over the tuned weights, computed in float64."""
    largest = 0.0
    for p, p0 in zip(params, theta0, strict=True):
        if p.numel():
            largest = max(largest, float((p.detach().double() - p0.double()).abs().max()))
    return largest


class Patch(Intervention[PatchArgs]):
    """Fine-tune M0 on the specs' D_i cases within an L-infinity ball (or unconstrained)."""

    name = "patch"
    description = "constrained fine-tuning of M0 on D_i (clamp to [θ0-δ, θ0+δ]); delta: null = free"
    Args = PatchArgs

    def label(self) -> str:
        """``patch`` (default δ), ``patch-d<δ>`` (given δ), ``patch-unconstrained``, with
        ``-mixin`` when train examples are replayed."""
        args: PatchArgs = self.args
        if args.delta is None:
            text = "patch-unconstrained"
        else:
            text = "patch" if args.delta == "auto" else f"patch-d{args.delta:g}"
        return text + ("-mixin" if args.replay else "")

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        """Copy M0, fine-tune with clamping, and return the patched copy."""

        args: PatchArgs = self.args
        base = ctx.base_model
        if not isinstance(base, TorchModel):
            return InterventionOutcome(
                model=None,
                skipped=f"needs a TorchModel with parameters to tune; model {base.name!r} has none",
            )
        texts, labels, case_ids = patch_data(ctx, args.replay)
        recipe = {
            "intervention": self.name,
            "args": args.model_dump(mode="json"),
            "texts": hash_texts(texts),
            "labels": hash_texts([str(int(y)) for y in labels]),
            "seed": ctx.seed,
        }
        model, changes = ctx.derive(
            recipe,
            lambda: self._patch(ctx, texts, labels, case_ids),
            f"{self.label()} (seed {ctx.seed})",
        )
        return InterventionOutcome(model=model, changes=changes, added_training_texts=texts)

    def _patch(
        self,
        ctx: InterventionContext,
        texts: list[str],
        labels: np.ndarray,
        case_ids: list[str],
    ) -> tuple[TorchModel, dict[str, Any]]:
        """Copy M0 and fine-tune the copy with clamping; return it and its changes record."""
        import torch

        args: PatchArgs = self.args
        model = copy_model(ctx.base_model, ctx.new_model())
        assert isinstance(model, TorchModel)
        delta = resolve_delta(args.delta, model)
        names = model.parameter_names(args.params)
        if not names:
            raise UserError(
                f"params {args.params!r} matches no parameter of model {model.name!r}",
                field="interventions.params.params",
                fix="use head, last, all, or a regex over the names in parameter_names('all')",
            )
        named = dict(model.module.named_parameters())
        tuned = [named[n] for n in names]
        chosen = set(names)
        for name, p in named.items():
            p.requires_grad_(name in chosen)
        theta0 = [p.detach().clone() for p in tuned]
        bounds = [ball_bounds(p0, delta) for p0 in theta0] if delta is not None else []

        torch.manual_seed(ctx.seed)
        rng = np.random.default_rng([ctx.seed, 0xBA7C])
        optimiser: torch.optim.Optimizer = (
            torch.optim.Adam(tuned, lr=args.lr)
            if args.optimizer == "adam"
            else torch.optim.SGD(tuned, lr=args.lr)
        )
        y = torch.as_tensor(labels, dtype=torch.long, device=model.device)
        per_epoch = (len(texts) + args.batch_size - 1) // args.batch_size
        total = args.steps if args.steps is not None else args.epochs * per_epoch
        steps = 0
        losses: list[float] = []
        model.module.train()
        while steps < total and len(texts):
            order = rng.permutation(len(texts))
            for start in range(0, len(texts), args.batch_size):
                if steps >= total:
                    break
                idx = order[start : start + args.batch_size]
                loss = torch.nn.functional.cross_entropy(
                    model.logits([texts[i] for i in idx]), y[idx]
                )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                if bounds:
                    with torch.no_grad():
                        for p, (low, high) in zip(tuned, bounds, strict=True):
                            p.copy_(torch.clamp(p, min=low, max=high))
                steps += 1
                losses.append(float(loss.detach()))
        model.module.eval()
        for p in named.values():
            p.requires_grad_(True)
        moved = max_abs_delta(tuned, theta0)
        n_weights = int(sum(p.numel() for p in tuned))
        n_moved = int(
            sum(int((p.detach() != p0).sum()) for p, p0 in zip(tuned, theta0, strict=True))
        )
        changes = {
            "delta": delta,
            "constrained": delta is not None,
            "params": args.params,
            "tuned_parameters": names,
            "n_weights_tuned": n_weights,
            "n_weights_moved": n_moved,
            "max_abs_delta": moved,
            "steps": steps,
            "lr": args.lr,
            "optimizer": args.optimizer,
            "first_loss": round(losses[0], 6) if losses else None,
            "last_loss": round(float(np.mean(losses[-max(1, per_epoch) :])), 6) if losses else None,
            "n_spec_cases": len(case_ids),
            "spec_case_ids": case_ids,
            "replay": args.replay,
            "replay_ids": ctx_replay_ids(ctx, args.replay),
        }
        return model, changes


def ctx_replay_ids(ctx: InterventionContext, replay: int) -> list[str]:
    """The ids of the ``replay`` train examples mixed in (seeded by the run seed)."""
    return [ctx.task.train.ids[int(i)] for i in replay_indices(ctx, replay)]


def replay_indices(ctx: InterventionContext, replay: int) -> np.ndarray:
    """Seeded choice of ``replay`` train indices (without replacement)."""
    n = len(ctx.task.train)
    rng = np.random.default_rng([ctx.seed, 0x4E91A7])
    return np.sort(rng.choice(n, size=min(replay, n), replace=False)) if replay else np.zeros(0)


def patch_data(ctx: InterventionContext, replay: int) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts and labels to fine-tune on: every spec's D_i cases (never D_i_heldout) with the
    spec's label, then the replayed train examples. Also returns the spec case ids used."""
    texts: list[str] = []
    labels: list[int] = []
    case_ids: list[str] = []
    for spec in ctx.specs:
        label = ctx.task.label_index(spec.label)
        for case in spec.train_cases:
            texts.append(case.text)
            labels.append(label)
            case_ids.append(case.id)
    for i in replay_indices(ctx, replay):
        texts.append(ctx.task.train.texts[int(i)])
        labels.append(int(ctx.task.train.labels[int(i)]))
    return texts, np.asarray(labels, dtype=np.int64), case_ids


@harness.hookimpl
def register_interventions(register: Register[type[Intervention]]) -> None:
    """Register ``patch``."""
    register(Patch)
