"""Every private Lightning API that ``torchnn.training`` uses, in one place, each with a fallback.

Lightning has no public hook for these. Tested with Lightning 2.6 (the lower bound in
``pyproject.toml``); when upgrading, run ``python -m torchnn.training._lightning``, which lists any
that the installed Lightning lacks (``tests/training/test_lightning_private.py`` fails then).

=====================================================  =========================================
private API (used by)                                  without it
=====================================================  =========================================
``trainer.fit_loop.epoch_loop.manual_optimization``    :func:`step_progress` is ``None``: the
``.optim_step_progress`` (module.py: gd_step's fused   module takes ``optimizer.step()``
updates count as optimiser steps, so ``global_step``   instead of ``gd_step`` (same result,
counts iterations)                                     slower)
``LightningModule._trainer`` (module.py,               :func:`attached_trainer` catches the
schedulers.py: is a trainer attached?)                 ``RuntimeError`` of ``.trainer``
``ModelCheckpoint._save_topk_checkpoint``,             Lightning's own rule: ``last.ckpt``
``_save_last_checkpoint``, ``_monitor_candidates``     only when a top-k file is saved
(callbacks.py: ``RunCheckpoint``)
``ExperimentWriter._check_log_dir_exists``,            Lightning's writer: a resumed run starts
``CSVLogger._experiment``, ``._fs`` (runs.py:          a new ``metrics.csv``
``RunLogger`` keeps ``metrics.csv`` across a resume)
``LightningCLI._get``, ``._parser``,                   :func:`instantiate_trainer` builds the
``._instantiate_trainer`` (cli.py: the trainer with    ``Trainer`` itself, without the saved
the checkpoint section's callback)                     ``config.yaml``
``TQDMProgressBar._train_progress_bar``                :func:`train_progress_bar` is ``None``
(progress.py)
=====================================================  =========================================
"""

from __future__ import annotations

import logging
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

__all__ = ["attached_trainer", "instantiate_trainer", "missing", "step_progress",
           "train_progress_bar"]


def step_progress(trainer: Any) -> Any | None:
    """Lightning's count of manual optimiser steps (``trainer.global_step``), or ``None``."""
    try:
        return trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
    except AttributeError:
        return None


def attached_trainer(module: LightningModule) -> Trainer | None:
    """The module's trainer, or ``None`` when it is not attached to one."""
    try:
        return module._trainer
    except AttributeError:
        try:
            return module.trainer
        except RuntimeError:
            return None


def train_progress_bar(bar: TQDMProgressBar) -> Any | None:
    """The training bar of a TQDM progress bar, or ``None`` before it exists."""
    return getattr(bar, "_train_progress_bar", None)


def instantiate_trainer(cli: LightningCLI, config: dict[str, Any],
                        callbacks: list[Callback]) -> Trainer:
    """``cli``'s trainer from ``config`` plus ``callbacks``, as LightningCLI builds it."""
    if hasattr(cli, "_instantiate_trainer"):
        return cli._instantiate_trainer(config, callbacks)
    listed = config.get("callbacks") or []
    listed = list(listed) if isinstance(listed, list) else [listed]
    return cli.trainer_class(**{**config, "callbacks": [*listed, *callbacks]})


_EXPECTED = {
    ModelCheckpoint: ("_save_topk_checkpoint", "_save_last_checkpoint", "_monitor_candidates"),
    ExperimentWriter: ("_check_log_dir_exists",),
    LightningCLI: ("_get", "_parser", "_instantiate_trainer"),
}


def missing() -> list[str]:
    """The private APIs above that the installed Lightning lacks (empty when all are there)."""
    gone = [f"{cls.__name__}.{name}" for cls, names in _EXPECTED.items() for name in names
            if not hasattr(cls, name)]
    logger = CSVLogger("runs")  # writes nothing until it logs
    gone += [f"CSVLogger.{name}" for name in ("_experiment", "_fs") if not hasattr(logger, name)]
    gone += [f"TQDMProgressBar.{name}" for name in ("_train_progress_bar",)
             if not hasattr(TQDMProgressBar(), name)]
    if not hasattr(LightningModule(), "_trainer"):
        gone.append("LightningModule._trainer")
    log = logging.getLogger("lightning.pytorch")  # no "GPU available: ..." lines
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        trainer = Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    finally:
        log.setLevel(level)
    if step_progress(trainer) is None:
        gone.append("Trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress")
    return gone


if __name__ == "__main__":
    import lightning

    lacking = missing()
    print(f"Lightning {lightning.__version__}: "
          + (f"missing {', '.join(lacking)}" if lacking else "every private API torchnn uses"))
