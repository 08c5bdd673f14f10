"""A progress bar that counts gradient-descent iterations, not Lightning steps."""

from __future__ import annotations

import math
import sys
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm

from torchnn.training._lightning import train_progress_bar

__all__ = ["IterationProgressBar"]


def total_iterations(trainer: Trainer, pl_module: LightningModule) -> float:
    """The iterations this fit will run: max_steps, or max_epochs x batches x iterations/step."""
    if trainer.max_steps is not None and trainer.max_steps > 0:
        return trainer.max_steps  # optimiser steps, and the module steps once per iteration
    per_batch = getattr(pl_module, "iterations_per_batch", lambda: 1)()
    epochs, batches = trainer.max_epochs, trainer.num_training_batches
    if epochs is None or epochs < 0 or math.isinf(batches):
        return math.inf
    return epochs * batches * per_batch


class IterationProgressBar(TQDMProgressBar):
    """One bar for the whole fit, in gradient-descent iterations, with J and the metrics.

    NOTE: the module runs many iterations per Lightning step and validates every epoch; the
    default bar would show ``1/1`` per epoch and flash a validation bar a hundred times.
    Validation and test outside ``fit`` keep the default bars.
    """

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        total = total_iterations(trainer, pl_module)
        self.train_progress_bar = Tqdm(
            desc="Gradient descent",
            total=None if math.isinf(total) else total,
            initial=pl_module.global_step,  # a resumed run starts where it stopped
            unit="it",
            position=2 * self.process_position,
            disable=self.is_disabled,
            leave=True,
            dynamic_ncols=True,
            file=sys.stdout,
            smoothing=0,
            bar_format=self.BAR_FORMAT,
        )

    def on_train_epoch_start(self, trainer: Trainer, *_: Any) -> None:
        pass  # one bar for all epochs

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        bar = self.train_progress_bar
        if bar is not None and not bar.disable:
            bar.set_description(f"Epoch {trainer.current_epoch}", refresh=False)
            bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
            bar.update(pl_module.global_step - bar.n)  # redraws at most every 0.1 s

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self.train_progress_bar.disable:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)

    def _in_fit(self, trainer: Trainer) -> bool:
        return trainer.state.fn == "fit"

    def on_sanity_check_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        pass

    def on_sanity_check_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        pass

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._in_fit(trainer):
            super().on_validation_start(trainer, pl_module)

    def on_validation_batch_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if not self._in_fit(trainer):
            super().on_validation_batch_start(trainer, *args, **kwargs)

    def on_validation_batch_end(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if not self._in_fit(trainer):
            super().on_validation_batch_end(trainer, *args, **kwargs)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._in_fit(trainer):
            super().on_validation_end(trainer, pl_module)
        else:
            bar = train_progress_bar(self)
            if bar is not None and not bar.disable:
                bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, Any]:
        """J of the last iteration and the validation cost: the ``_step``/``_epoch`` twins and
        the version number are left out."""
        items = super().get_metrics(trainer, pl_module)
        return {k.removesuffix("_step"): v for k, v in items.items()
                if k != "v_num" and not k.endswith("_epoch")}
