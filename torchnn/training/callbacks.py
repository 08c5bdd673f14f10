"""What a run leaves in its folder: the cost curve, plots, and a summary written last."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from torchnn.training.runs import SUMMARY_FILE, truncate_metrics, write_json_atomic

__all__ = ["RunArtifacts", "RunCheckpoint", "final_metrics", "metric_history"]


def final_metrics(trainer: Trainer) -> dict[str, float]:
    """The last logged value of every metric, without Lightning's ``_step``/``_epoch`` twins."""
    out: dict[str, float] = {}
    for key, value in trainer.callback_metrics.items():
        if key.endswith("_step"):
            continue
        out[key.removesuffix("_epoch")] = float(value)
    return dict(sorted(out.items()))


def metric_history(metrics_csv: Path) -> dict[str, dict[str, tuple[list[int], list[float]]]]:
    """Every epoch-level metric of a run's ``metrics.csv`` but J, by name and stage (``train``,
    then ``val``), against the epoch: ``{"acc": {"train": (epochs, values), "val": ...}}``."""
    history: dict[str, dict[str, tuple[list[int], list[float]]]] = {}
    if not metrics_csv.is_file():
        return history
    with metrics_csv.open(newline="") as f:
        for row in csv.DictReader(f):
            for key, value in row.items():
                stage, _, metric = key.partition("/")
                if value and stage in ("train", "val") and metric and not metric.startswith("J"):
                    stages = history.setdefault(metric, {"train": ([], []), "val": ([], [])})
                    stages[stage][0].append(int(row["epoch"]))
                    stages[stage][1].append(float(value))
    return history


class RunCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` whose ``last.ckpt`` is the last state: written at every checkpointing
    point (``every_n_epochs``, ``every_n_train_steps``) whatever the monitor says, and at the end
    of fit; ``best.ckpt`` (the top-k files) still follows the monitor.

    NOTE: Lightning 2.6 writes ``last.ckpt`` only when a top-k file is saved, so once ``val/J``
    stops improving it freezes at the best epoch, and ``--ckpt_path last`` loads an old model.
    """

    _last_step = -1  # the global_step of the last ``last.ckpt`` this callback wrote

    def _save_topk_checkpoint(self, trainer: Trainer, monitor_candidates: dict) -> None:
        super()._save_topk_checkpoint(trainer, monitor_candidates)
        self._save_last_checkpoint(trainer, monitor_candidates)

    def _save_last_checkpoint(self, trainer: Trainer, monitor_candidates: dict) -> None:
        if self._last_step != trainer.global_step:  # Lightning asks again after a top-k save
            super()._save_last_checkpoint(trainer, monitor_candidates)
            self._last_step = trainer.global_step

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # the end of fit between checkpointing points (max_steps, every_n_epochs 10 of 15)
        if not getattr(trainer, "fast_dev_run", False):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))


class RunArtifacts(Callback):
    """At the end of ``fit``: ``cost.csv``, ``cost.png``, ``decision_boundary.png`` (2-D binary
    data), then ``summary.json`` (the completion marker), and a printed summary.

    On resume it clears the old ``summary.json`` (the run is incomplete until it ends again) and
    drops the ``metrics.csv`` rows that a killed run logged after its last checkpoint. On an
    exception it leaves ``error.txt``. Only global rank 0 writes; nothing is written under
    ``fast_dev_run`` (Lightning's convention) or without a logger.

    Args:
        plots: write the PNG plots.
        verbose: print the summary at the end of fit.
    """

    def __init__(self, plots: bool = True, verbose: bool = True) -> None:
        self.plots = plots
        self.verbose = verbose
        self._start = time.perf_counter()
        self._dir: Path | None = None

    @staticmethod
    def _log_dir(trainer: Trainer) -> Path | None:
        # NOTE: Lightning sets fast_dev_run, callbacks and datamodule outside the Trainer class,
        # so mypy does not see them: read through getattr
        if (getattr(trainer, "fast_dev_run", False) or trainer.logger is None
                or trainer.log_dir is None):
            return None
        return Path(trainer.log_dir)

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._start = time.perf_counter()
        # NOTE: trainer.log_dir broadcasts from rank 0: ask once here, on every rank, and keep it.
        self._dir = log_dir = self._log_dir(trainer)
        if stage == "fit" and trainer.is_global_zero and log_dir is not None:
            (log_dir / SUMMARY_FILE).unlink(missing_ok=True)

    def on_load_checkpoint(self, trainer: Trainer, pl_module: LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        log_dir = self._dir
        resuming = trainer.state.fn == "fit"  # validate/test/predict only add rows
        if resuming and trainer.is_global_zero and log_dir is not None and "epoch" in checkpoint:
            truncate_metrics(log_dir, int(checkpoint["epoch"]))

    def on_exception(self, trainer: Trainer, pl_module: LightningModule,
                     exception: BaseException) -> None:
        log_dir = self._dir
        fitting = trainer.state.fn == "fit"  # an evaluation error says nothing about the run
        if fitting and trainer.is_global_zero and log_dir is not None and log_dir.is_dir():
            (log_dir / "error.txt").write_text(
                f"{type(exception).__name__}: {exception}\n"
                "This run did not finish; `--ckpt_path last` resumes it from its last checkpoint.\n"
            )

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        seconds = time.perf_counter() - self._start
        costs = list(getattr(pl_module, "cost_history", []))
        metrics = final_metrics(trainer)
        log_dir = self._dir
        files: list[str] = []
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            files = self._write_artifacts(trainer, pl_module, log_dir, costs)
            ckpt = next((c for c in getattr(trainer, "callbacks", [])
                         if isinstance(c, ModelCheckpoint)), None)
            write_json_atomic(log_dir / SUMMARY_FILE, {
                "status": "complete",
                "iterations": len(costs),
                "epochs": trainer.current_epoch,
                "global_step": trainer.global_step,
                "final_cost": costs[-1] if costs else None,
                "fit_seconds": round(seconds, 3),
                "metrics": {k: v for k, v in metrics.items() if math.isfinite(v)},
                "best_checkpoint": ckpt.best_model_path if ckpt else None,
                "last_checkpoint": ckpt.last_model_path if ckpt else None,
            })
        if self.verbose:
            self._print_summary(trainer, costs, metrics, seconds, log_dir, files)

    def _write_artifacts(self, trainer: Trainer, pl_module: LightningModule, log_dir: Path,
                         costs: list[float]) -> list[str]:
        files = []
        if costs:
            with (log_dir / "cost.csv").open("w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["iteration", "J"])
                writer.writerows((i, repr(j)) for i, j in enumerate(costs))
            files.append("cost.csv")
        if not self.plots:
            return files
        from torchnn.training import plots

        name = getattr(trainer.logger, "name", None) or "run"
        history = metric_history(log_dir / "metrics.csv")
        val_costs = getattr(pl_module, "val_cost_history", [])  # (iteration, J) per validation
        validation = ([i for i, _ in val_costs], [j for _, j in val_costs])
        figures = {}
        if costs:
            figures["cost"] = plots.cost_figure(costs, f"Cost J ({name})", validation)
        if any(len(s[0]) for stages in history.values() for s in stages.values()):
            figures["metrics"] = plots.metrics_figure(history, f"Metrics ({name})")
        dm = getattr(trainer, "datamodule", None)
        if (dm is not None and getattr(dm, "num_features", None) == 2
                and getattr(pl_module, "task", None) in ("binary", "multiclass")
                and hasattr(dm, "full_train_tensors")):
            x, y = dm.full_train_tensors()
            val = getattr(dm, "val_dataset", None)
            val = None if val is None or val is dm.train_dataset else val.tensors[:2]
            target = getattr(dm, "target_name", "y")
            k = max(2, int(getattr(pl_module.net, "layer_dims", [1])[-1]))
            classes = getattr(dm, "classes", None) or [str(c) for c in range(k)]
            # the grid in the parameters' dtype and device (precision 64-true: float64)
            like = next(pl_module.parameters())
            was_training = pl_module.training
            pl_module.eval()
            features = getattr(dm, "feature_names", None) or ["x1", "x2"]
            scaled = " (standardised)" if getattr(dm, "standardize", False) else ""
            figures["decision_boundary"] = plots.decision_boundary_figure(
                lambda g: pl_module(g.to(like)), x, y, f"Decision boundary ({name})",
                validation=val, class_names=[f"{target} = {c}" for c in classes],
                axis_labels=[f"{f}{scaled}" for f in features])
            pl_module.train(was_training)
        for stem, fig in figures.items():
            fig.savefig(log_dir / f"{stem}.png")
            files.append(f"{stem}.png")
            for logger in trainer.loggers:  # e.g. TensorBoard's add_figure
                add_figure = getattr(getattr(logger, "experiment", None), "add_figure", None)
                if callable(add_figure):
                    add_figure(f"torchnn/{stem}", fig, global_step=trainer.global_step)
        return files

    @staticmethod
    def _print_summary(trainer: Trainer, costs: list[float], metrics: dict[str, float],
                       seconds: float, log_dir: Path | None, files: list[str]) -> None:
        lines = [f"Trained {len(costs)} gradient-descent iterations "
                 f"({trainer.current_epoch} epochs) in {seconds:.1f} s"]
        width = max((len(k) for k in metrics), default=0)
        lines += [f"  {k:<{width}}  {v:.4f}" for k, v in metrics.items()]
        if log_dir is not None:
            if (log_dir / "checkpoints").is_dir():
                files = [*files, "checkpoints/"]
            lines.append(f"Run folder: {log_dir}  ({', '.join(files)})")
        print("\n".join(lines), flush=True)
