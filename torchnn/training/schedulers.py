"""The learning-rate schedulers of ``DeepNetworkModule``, stepped by the module itself.

``lr_scheduler_interval`` says when: once per ``epoch`` (Lightning's default) or after every
gradient-descent ``iteration``; a ``ReduceLROnPlateau`` steps after each validation.
"""

from __future__ import annotations

import warnings

import torch
from lightning.pytorch import LightningModule

from torchnn.training._lightning import attached_trainer

__all__ = ["SCHEDULER_INTERVALS", "step_schedulers", "steps_per_iteration"]

SCHEDULER_INTERVALS = ("epoch", "iteration")


def steps_per_iteration(module: LightningModule) -> bool:
    """Whether a scheduler is due after every iteration (so α may change between them)."""
    if module.hparams.get("lr_scheduler_interval", "epoch") != "iteration":
        return False
    return any(not isinstance(c.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
               for c in module.trainer.lr_scheduler_configs)


def step_schedulers(module: LightningModule, when: str) -> None:
    """Step the configured schedulers that are due ``when``: ``iteration`` (after an
    update), ``epoch`` (after the epoch's last batch) or ``validation`` (a ReduceLROnPlateau,
    which reads its ``monitor``, ``val/J`` by default, as Lightning does).

    NOTE: under manual optimisation Lightning leaves the stepping to the module. An epoch's
    step comes after its last batch, before its validation and checkpoint, so a checkpoint
    holds the scheduler as the next epoch starts with it.
    """
    if attached_trainer(module) is None:
        return
    interval = module.hparams.get("lr_scheduler_interval", "epoch")
    for config in module.trainer.lr_scheduler_configs:
        scheduler = config.scheduler
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if when != "validation":
                continue
            monitor = getattr(scheduler, "monitor", None) or "val/J"
            value = module.trainer.callback_metrics.get(monitor)
            if value is None:
                raise ValueError(
                    f"ReduceLROnPlateau monitors {monitor!r}, which was not logged; expected "
                    f"one of {sorted(module.trainer.callback_metrics)}")
            scheduler.step(value)
        elif when == interval:
            with warnings.catch_warnings():
                # NOTE: gd_step's fused update never calls optimizer.step(), so torch would
                # warn that the scheduler steps first; the updates did happen
                warnings.filterwarnings("ignore", message=r".*lr_scheduler\.step\(\)` before")
                scheduler.step()
