"""Run folders: ``runs/<name>/version_N`` with metrics, checkpoints, plots and a summary.

A run folder is *complete* once ``summary.json`` exists: it is written last, atomically, only when
fit ends without an error, so an interrupted or failed run never looks complete.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any, cast

import torch
from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

__all__ = [
    "CheckpointError",
    "RunLogger",
    "SUMMARY_FILE",
    "check_checkpoint",
    "fit_progress",
    "latest_run",
    "run_version_of",
    "truncate_metrics",
    "write_json_atomic",
]

SUMMARY_FILE = "summary.json"
_VERSION = re.compile(r"^version_(\d+)$")


class CheckpointError(ValueError):
    """A checkpoint file that is missing, truncated or not a torchnn/Lightning checkpoint."""


class _ResumableWriter(ExperimentWriter):
    # NOTE: Lightning's writer deletes an existing metrics.csv; a resumed run appends to it
    # instead (rows logged after the checkpoint are dropped by ``truncate_metrics``), keeping
    # the file's columns so that Lightning does not rewrite it with the new rows' keys alone.
    def _check_log_dir_exists(self) -> None:
        if os.path.isfile(self.metrics_file_path):
            with open(self.metrics_file_path, newline="") as f:
                self.metrics_keys = list(csv.DictReader(f).fieldnames or [])


class RunLogger(CSVLogger):
    """``CSVLogger`` for ``runs/<name>/version_N`` that keeps ``metrics.csv`` across a resume.

    Args:
        save_dir: the folder holding every run (``runs``).
        name: the experiment name, one sub-folder per experiment.
        version: an int (``version_N``), a folder name, or ``None`` for the next free version.
        flush_logs_every_n_steps: write the CSV every this many logging steps.

    ``keep_hparams`` (set by the command line for ``validate`` / ``test`` / ``predict``) leaves
    the run's ``hparams.yaml`` as ``fit`` wrote it: an evaluation adds metrics rows, and its own
    arguments (a ``predict_path``) are not the run's hyperparameters.
    """

    keep_hparams = False

    def __init__(
        self,
        save_dir: str = "runs",  # every run lives under this folder
        name: str = "default",  # one sub-folder per experiment
        version: int | str | None = None,  # None: the next free version_N
        prefix: str = "",  # prefix of every metric key
        flush_logs_every_n_steps: int = 1,  # the CSV is small: keep it current on disk
    ) -> None:
        super().__init__(save_dir, name=name, version=version, prefix=prefix,
                         flush_logs_every_n_steps=flush_logs_every_n_steps)

    def log_hyperparams(self, params: Any = None) -> None:
        if not self.keep_hparams:
            super().log_hyperparams(params)

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ResumableWriter(log_dir=self.log_dir)
        return cast(ExperimentWriter, self._experiment)


def truncate_metrics(log_dir: str | Path, last_epoch: int) -> None:
    """Drop the rows of ``metrics.csv`` logged after epoch ``last_epoch`` (by a killed run)."""
    path = Path(log_dir) / ExperimentWriter.NAME_METRICS_FILE
    if not path.is_file():
        return
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames or [], list(reader)
    keep = [r for r in rows if not r.get("epoch") or float(r["epoch"]) <= last_epoch]
    if len(keep) == len(rows):
        return
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(keep)
    os.replace(tmp, path)


def write_json_atomic(path: str | Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON through a temporary file and a rename: never half-written."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def latest_run(save_dir: str | Path, name: str) -> tuple[int, Path] | None:
    """The highest ``version_N`` under ``save_dir/name`` that has ``checkpoints/last.ckpt``."""
    root = Path(save_dir) / name
    found = []
    if root.is_dir():
        for child in root.iterdir():
            match = _VERSION.match(child.name)
            last = child / "checkpoints" / "last.ckpt"
            if match and last.is_file():
                found.append((int(match.group(1)), last))
    return max(found) if found else None


def run_version_of(ckpt_path: str | Path, save_dir: str | Path, name: str) -> int | None:
    """N when ``ckpt_path`` lies in ``save_dir/name/version_N/checkpoints/``, else ``None``."""
    ckpt = Path(ckpt_path).resolve()
    folder = ckpt.parent.parent
    if ckpt.parent.name != "checkpoints" or folder.parent != (Path(save_dir) / name).resolve():
        return None
    match = _VERSION.match(folder.name)
    return int(match.group(1)) if match else None


def check_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load ``path`` with ``torch.load(weights_only=True)``; a clear error if it cannot be used.

    Raises:
        CheckpointError: the file is missing, truncated or corrupt, or holds no ``state_dict``.
    """
    file = Path(path)
    if file.is_dir():
        inside = [f for f in (file / "checkpoints/last.ckpt", file / "last.ckpt") if f.is_file()]
        example = inside[0] if inside else "runs/flower/version_0/checkpoints/last.ckpt"
        raise CheckpointError(f"checkpoint path '{path}' is a folder; expected a .ckpt file, "
                              f"e.g. '{example}'")
    if not file.is_file():
        raise CheckpointError(
            f"checkpoint file not found: '{path}'; expected an existing .ckpt file "
            "(e.g. runs/flower/version_0/checkpoints/last.ckpt)"
        )
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, bad pickle, not a torch file at all
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"checkpoint '{path}' is truncated or corrupt ({file.stat().st_size} bytes; "
            f"torch.load says: {reason}); expected a complete checkpoint written by torchnn. "
            "Nothing was changed in its run folder: resume from another checkpoint there "
            "(e.g. best.ckpt) or start a new run without --ckpt_path"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        got = sorted(checkpoint)[:5] if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"checkpoint '{path}' holds no 'state_dict' (got {got}); expected a Lightning "
            "checkpoint written by torchnn"
        )
    return checkpoint


def fit_progress(checkpoint: dict[str, Any]) -> tuple[int, int]:
    """(epochs trained, iterations trained) of a checkpoint written by ``fit``.

    NOTE: a checkpoint written at the end of validation is inside its epoch (the fit loop has not
    counted it as processed yet) though every batch of it is trained: it counts here.
    """
    try:
        loop = checkpoint["loops"]["fit_loop"]
        epochs = loop["epoch_progress"]["current"]
        inside = epochs["started"] > epochs["processed"] and loop[
            "epoch_loop.batch_progress"]["is_last_batch"]
        done = epochs["processed"] + bool(inside)
    except (KeyError, TypeError):  # not written by a fit: its epoch index, counted from 0
        done = int(checkpoint.get("epoch", -1)) + 1
    return int(done), int(checkpoint.get("global_step", 0))
