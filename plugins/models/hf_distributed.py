"""Data-parallel training of the ``hf`` model: ``fit`` with ``processes: N`` runs here.

:func:`fit_launched` writes the training job (arguments, labels, seed, texts) to a temporary
folder and starts ``accelerate launch --num_processes N`` on this module (``--multi_gpu`` on
CUDA, one GPU per process from the GPUs this process may use: a Ray task's or a local
worker's; ``--cpu`` with gloo otherwise). Every launched process runs
:meth:`~harness_plugins.models.hf.HfModel.fit_here`, which trains under DDP with the same
global batch as one process; process 0 saves the trained model, which the caller loads back.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.api import Texts

if TYPE_CHECKING:
    from harness.progress import Progress
    from harness_plugins.models.hf import HfModel

JOB = "job.json"
TEXTS = "texts.jsonl"
TRAINED = "trained"


def free_port() -> int:
    """A free TCP port on this machine for the process group's rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch_command(model: HfModel, folder: Path) -> list[str]:
    """The ``accelerate launch`` command line for ``model``'s job in ``folder``."""
    processes = model.args.processes
    cuda = model.device.startswith("cuda")
    precision = {"bf16": "bf16", "fp16": "fp16"}.get(model.args.precision, "no")
    if cuda and model.args.precision == "auto":
        import torch

        precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    command += ["--num_processes", str(processes), "--num_machines", "1"]
    command += ["--mixed_precision", precision, "--dynamo_backend", "no"]
    command += ["--main_process_port", str(free_port())]
    command += ["--multi_gpu"] if cuda else ["--cpu"]
    return [*command, "-m", __name__, str(folder)]


def fit_launched(
    model: HfModel, texts: Texts, labels: np.ndarray, seed: int, progress: Progress | None
) -> None:
    """Train ``model`` in ``model.args.processes`` processes and load the result into it."""
    with tempfile.TemporaryDirectory(prefix="harness-ddp-") as tmp:
        folder = Path(tmp)
        job = {
            "args": model.args.model_dump(mode="json"),
            "label_names": list(model.label_names),
            "device": model.device,
            "seed": seed,
        }
        (folder / JOB).write_text(json.dumps(job), encoding="utf-8")
        with (folder / TEXTS).open("w", encoding="utf-8") as out:
            for text, label in zip(texts, np.asarray(labels).tolist(), strict=True):
                out.write(json.dumps([text, int(label)]) + "\n")
        if progress is not None:
            progress.log(
                f"training {model.name} on {model.args.processes} processes (accelerate launch)",
                style="dim",
            )
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        done = subprocess.run(
            launch_command(model, folder), env=env, capture_output=True, text=True
        )
        if done.returncode != 0 or not (folder / TRAINED).is_dir():
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"accelerate launch failed (exit {done.returncode}):\n{tail}")
        model.load(folder / TRAINED)


def main(folder: Path) -> None:
    """One launched process: train through ``fit_here``; process 0 saves the model."""
    from accelerate.state import PartialState

    from harness_plugins.models.hf import HfArgs, HfModel

    job: dict[str, Any] = json.loads((folder / JOB).read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (folder / TEXTS).read_text(encoding="utf-8").splitlines()]
    args = HfArgs.model_validate(job["args"])
    names = job["label_names"]
    device = job["device"]
    if device.startswith("cuda"):  # one GPU per process
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    model = HfModel(args, len(names), device, label_names=names)
    texts = [text for text, _ in rows]
    labels = np.array([label for _, label in rows], dtype=np.int64)
    model.fit_here(texts, labels, int(job["seed"]))
    state = PartialState()
    if state.is_main_process:
        model.save(folder / TRAINED)
    state.wait_for_everyone()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
