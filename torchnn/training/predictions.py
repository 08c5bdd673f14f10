"""``predictions.csv``: one line per predicted row, beside the row's number and its target.

Columns, in this order:
- ``row``: the row's number in its source (a file's data rows counted from 0, or the table row
  of a held-out split), so every prediction can be put back next to its input;
- a binary classifier: ``probability`` (A^[L] = P(y = 1 | x)) and ``prediction`` (1 where the
  probability is above 0.5, else 0, as :meth:`DeepNetwork.predict`);
- a multi-class one: ``prediction`` (the most probable class's index) and one
  ``probability_<class>`` column per class (the data module's ``classes`` name them);
  a regressor: ``prediction``, A^[L] mapped back to the target's own units;
- the target under its own name, when the rows have one.

The writer reads batches ``(x, row)`` or ``(x, row, y)`` (a torchnn data module's
``predict_dataloader``) and the module's ``predict_step`` output A^[L]. It writes into the run
folder of the checkpoint (``trainer.log_dir``), or next to a checkpoint that is not in one,
replacing an earlier ``predictions.csv`` in one step (never a half-written file).
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter
from torch import Tensor

__all__ = ["PREDICTIONS_FILE", "PredictionWriter", "prediction_table"]

PREDICTIONS_FILE = "predictions.csv"


def prediction_table(a: Tensor, row: Tensor, y: Tensor | None, task: str, dm: Any = None,
                     threshold: float = 0.5) -> tuple[list[str], list[list[Any]]]:
    """The header and the lines of ``predictions.csv`` from A^[L] ``(k, 1)`` or, multiclass,
    ``(k, C)``, and row numbers.

    ``dm`` (the data module) maps a regressor's A^[L] back to the target's units and names the
    target column; without it the values are written as they are and the target is ``target``.
    Numbers are written in the shortest form that reads back to the same value in their dtype.
    """
    a = a.detach().cpu()
    if a.dtype not in (torch.float32, torch.float64):  # bf16 / fp16 outputs: float32 holds them
        a = a.float()
    target = getattr(dm, "target_name", "target")
    if task == "binary":  # classes and 0/1 targets as integers
        header = ["row", "probability", "prediction"]
        columns = [a[:, 0].numpy(), (a[:, 0] > threshold).long().numpy()]
    elif task == "multiclass":
        names = getattr(dm, "classes", None) or [str(c) for c in range(a.shape[1])]
        header = ["row", "prediction", *(f"probability_{name}" for name in names)]
        columns = [a.argmax(dim=1).numpy(), *a.T.numpy()]
    else:
        if dm is not None and hasattr(dm, "inverse_transform_target"):
            a = dm.inverse_transform_target(a)  # the target's own units
        header, columns = ["row", "prediction"], [a[:, 0].numpy()]
    if y is not None:
        header.append(target)
        y = y.detach().cpu().reshape(len(a), -1)[:, 0]
        columns.append((y.double() if task == "regression" else y.long()).numpy())
    lines = [[r, *(str(c[i]) for c in columns)] for i, r in enumerate(row.tolist())]
    return header, lines


class PredictionWriter(BasePredictionWriter):
    """Writes ``predictions.csv`` at the end of ``predict`` (see the module docstring).

    Every process keeps its batches; they are gathered on global rank 0, which writes the rows
    in their source order (a distributed sampler's repeated rows are written once).

    Args:
        filename: the file's name in the run folder.
        threshold: the probability above which a classifier predicts 1.
        verbose: print which rows are predicted and where the file went.
    """

    def __init__(self, filename: str = PREDICTIONS_FILE, threshold: float = 0.5,
                 verbose: bool = True) -> None:
        super().__init__(write_interval="batch")
        self.filename, self.threshold, self.verbose = filename, threshold, verbose
        self._parts: list[tuple[Tensor, Tensor, Tensor | None]] = []
        self._message = ""  # printed at the very end, after the progress bar's last line

    def on_predict_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._parts, self._message = [], ""
        # NOTE: Lightning sets trainer.datamodule outside the Trainer class: getattr for mypy
        description = getattr(getattr(trainer, "datamodule", None), "predict_description", None)
        if self.verbose and description and trainer.is_global_zero:
            print(f"Predicting {description}", flush=True)

    def write_on_batch_end(self, trainer: Trainer, pl_module: LightningModule, prediction: Any,
                           batch_indices: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int) -> None:
        a = prediction.detach()
        if isinstance(batch, (list, tuple)) and len(batch) >= 2:
            row, y = batch[1], (batch[2] if len(batch) > 2 else None)
        else:  # plain tensors of x: number the rows as they come
            done = sum(len(part[0]) for part in self._parts)
            row, y = torch.arange(done, done + len(a), device=a.device), None
        self._parts.append((a.reshape(len(a), -1), row.reshape(-1), y))

    def on_predict_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._parts:
            return
        a = torch.cat([p[0] for p in self._parts])
        row = torch.cat([p[1] for p in self._parts])
        ys = [p[2] for p in self._parts if p[2] is not None]
        y = torch.cat([t.reshape(len(t), -1) for t in ys]) if len(ys) == len(self._parts) \
            else None
        self._parts = []
        if trainer.world_size > 1:  # equal shares per process (the sampler pads), so gather
            a, row = (_gather(trainer, t) for t in (a, row))
            y = None if y is None else _gather(trainer, y)
        if not trainer.is_global_zero:
            return
        order = _first_of_each(row)  # source order, each row once
        a, row = a[order], row[order]
        y = None if y is None else y[order]
        task = getattr(pl_module, "task", "binary")
        header, lines = prediction_table(a, row, y, task, getattr(trainer, "datamodule", None),
                                         self.threshold)
        folder = self._folder(trainer)
        if folder is None:
            self._message = (f"Predicted {len(lines)} rows (no run folder or checkpoint to "
                             f"write {self.filename} beside)")
            return
        path = folder / self.filename
        _write_csv_atomic(path, header, lines)
        self._message = f"Predicted {len(lines)} rows: {path}"

    def on_predict_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.verbose and self._message:
            print(self._message, flush=True)

    @staticmethod
    def _folder(trainer: Trainer) -> Path | None:
        """The run folder of the checkpoint, or the checkpoint's own folder outside a run."""
        if trainer.logger is not None and trainer.log_dir is not None:
            return Path(trainer.log_dir)
        ckpt = getattr(trainer, "ckpt_path", None)
        return Path(ckpt).parent if ckpt else None


def _gather(trainer: Trainer, t: Tensor) -> Tensor:
    gathered = trainer.strategy.all_gather(t)  # (world_size, k, ...)
    return gathered.reshape(-1, *t.shape[1:])


def _first_of_each(row: Tensor) -> Tensor:
    """Indices that sort ``row`` ascending, keeping the first of repeated values."""
    order = torch.sort(row.cpu(), stable=True).indices
    sorted_rows = row.cpu()[order]
    keep = torch.ones(len(order), dtype=torch.bool)
    keep[1:] = sorted_rows[1:] != sorted_rows[:-1]
    return order[keep]


def _write_csv_atomic(path: Path, header: list[str], lines: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(lines)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
