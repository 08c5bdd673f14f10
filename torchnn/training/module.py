"""The LightningModule: the seed's network trained by full-batch gradient descent.

One Lightning ``training_step`` runs ``iterations_per_step`` gradient-descent iterations on its
batch (Algorithm 1.1 with the gradients of eqs. 2.9-2.12), recording J of every iteration, so the
seed's 10,000 full-batch iterations are 100 Lightning steps of 100 iterations: Lightning's
per-step cost (logging, checkpointing, callbacks) is paid 100 times, not 10,000 times.
Mini-batches (more than one batch an epoch) get one iteration each unless asked otherwise.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, cast

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor
from torchmetrics import MetricCollection

from torchnn import _validate as V
from torchnn import functional as F
from torchnn.nn import DeepNetwork, LogisticRegression
from torchnn.training import schedulers
from torchnn.training._lightning import attached_trainer
from torchnn.training._lightning import step_progress as _step_progress
from torchnn.training.descent import (
    BACKWARDS,
    all_reduce_gradients,
    autograd_gradients,
    explicit_gradients,
)
from torchnn.training.metrics import make_metrics
from torchnn.training.schedulers import SCHEDULER_INTERVALS

__all__ = ["DeepNetworkModule", "OPTIMIZERS", "SCHEDULER_INTERVALS"]

OPTIMIZERS = ("sgd", "adam")


class DeepNetworkModule(LightningModule):
    r"""A :class:`~torchnn.DeepNetwork` (or :class:`~torchnn.LogisticRegression`) trained by
    gradient descent, :math:`w := w - \alpha\, dw` (Algorithm 1.1).

    A sigmoid output makes a binary classifier with the cross-entropy cost (metrics: accuracy,
    F1, AUROC); a softmax output over ``n_y`` = C classes a multi-class one with the categorical
    cross-entropy (accuracy, macro F1, macro AUROC; targets are class indices); an identity or
    ReLU output makes a regressor with the squared-error cost (metrics: MSE, MAE, R²). Every
    argument is a primitive, so LightningCLI builds the module from YAML and checkpoints load
    with ``torch.load(weights_only=True)``.

    Args:
        n_x: input features n[0] (the command line links it to ``data.num_features``).
        hidden_units: n[1], ..., n[L-1]; empty gives chapter 1's logistic regression.
        n_y: output units n[L]: 1, or C classes for a softmax output (the command line links it
            to ``data.num_outputs``).
        hidden_activation: g of the hidden layers (``relu``, ``leaky_relu``, ``tanh``, ...).
        output_activation: ``sigmoid`` (binary), ``softmax`` (multi-class), ``identity`` or
            ``relu`` (regression).
        negative_slope: the leaky ReLU slope.
        init: weight initialisation, ``small`` (N(0, 1) * ``init_scale``), ``he``, ``xavier``.
        init_scale: the scale of ``small`` initialisation (the seed's 0.01).
        optimizer: ``sgd`` (the seed's gradient descent; ``momentum`` 0 by default) or ``adam``,
            both with ``lr``. Any other ``torch.optim`` optimizer (and a scheduler) is given
            the LightningCLI way, ``optimizer:`` / ``lr_scheduler:`` beside ``model:`` (or by
            overriding :meth:`configure_optimizers`); it then replaces this one, its own ``lr``
            included.
        lr: the learning rate α of the ``sgd`` / ``adam`` shorthand.
        momentum: SGD momentum (0: plain gradient descent).
        lr_scheduler_interval: when this module steps a learning-rate scheduler: once per
            ``epoch`` (Lightning's default) or after every gradient-descent ``iteration``. The
            module makes its own updates, so it steps the schedulers itself.
        backward: ``explicit`` (``DeepNetwork.backprop``, the seed's equations with no autograd
            graph) or ``autograd`` (autograd through the hand-written Functions); same gradients.
        iterations_per_step: gradient-descent iterations per Lightning step (per batch);
            ``None``: 100 when an epoch is one full batch, 1 per mini-batch (plain mini-batch SGD).
        recompute: activation checkpointing (``DeepNetwork(recompute=True)``): about half the
            activations kept for backward, for one more forward GEMM per dropped layer; the same
            gradients on both backward paths.
        graph: the autograd graph of ``backward="autograd"`` (``DeepNetwork(graph=...)``):
            ``network`` (the whole network and J as one node, the default) or ``layers`` (a
            Function node per layer): the same gradients; the explicit path records none.

    Examples:
        >>> module = DeepNetworkModule(n_x=2, hidden_units=[4], hidden_activation="tanh", lr=1.2)
        >>> module.net.layer_dims
        [2, 4, 1]
    """

    def __init__(
        self,
        n_x: int = 2,
        hidden_units: Sequence[int] = (4,),
        n_y: int = 1,
        hidden_activation: str = "tanh",
        output_activation: str = "sigmoid",
        negative_slope: float = 0.01,
        init: str = "small",
        init_scale: float = 0.01,
        optimizer: str = "sgd",
        lr: float = 1.2,
        momentum: float = 0.0,
        backward: str = "explicit",
        iterations_per_step: int | None = None,
        recompute: bool = False,
        graph: str = "network",
        lr_scheduler_interval: str = "epoch",
    ) -> None:
        super().__init__()
        if backward not in BACKWARDS:
            raise ValueError(f"unknown backward {backward!r}; expected one of {BACKWARDS}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {OPTIMIZERS}, "
                             "or any torch.optim optimizer the LightningCLI way: --optimizer "
                             "torch.optim.NAME (optimizer: {class_path, init_args} in YAML)")
        if lr_scheduler_interval not in SCHEDULER_INTERVALS:
            raise ValueError(f"unknown lr_scheduler_interval {lr_scheduler_interval!r}; "
                             f"expected one of {SCHEDULER_INTERVALS}")
        steps = iterations_per_step
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                                  or steps < 1):
            raise ValueError(f"iterations_per_step must be an int >= 1 or None (100 on a full "
                             f"batch, 1 per mini-batch), got {steps!r}")
        lr = V.check_learning_rate(lr, "DeepNetworkModule")  # the learning rate α
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not (
                0 <= momentum < math.inf):
            raise ValueError(f"DeepNetworkModule: momentum must be a finite number >= 0 (0: "
                             f"plain gradient descent), got {momentum!r}")
        momentum = float(momentum)  # NOTE: a primitive hyperparameter, as lr (weights_only load)
        self.save_hyperparameters()
        hidden = list(hidden_units)
        if not hidden and n_y == 1 and output_activation == "sigmoid":
            self.net: DeepNetwork = LogisticRegression(n_x, init=init, init_scale=init_scale,
                                                       graph=graph)
        else:
            self.net = DeepNetwork([n_x, *hidden, n_y], hidden_activation, output_activation,
                                   negative_slope=negative_slope, init=init, init_scale=init_scale,
                                   recompute=recompute, graph=graph)
        self.task: str = ("multiclass" if output_activation == "softmax" else
                     "binary" if self.net.is_classifier else "regression")
        self.backward = backward
        self.iterations_per_step: int | None = iterations_per_step
        # NOTE: many iterations per step and a hand-written update: Lightning's automatic
        # optimisation (one backward and one step per training_step) does not fit.
        self.automatic_optimization = False
        self.train_metrics: MetricCollection = make_metrics(self.task, "train/", n_y)
        self.val_metrics: MetricCollection = make_metrics(self.task, "val/", n_y)
        self.test_metrics: MetricCollection = make_metrics(self.task, "test/", n_y)
        self.cost_history: list[float] = []  # J before each iteration's update, all iterations
        self.val_cost_history: list[tuple[int, float]] = []  # (iterations done, val J)

    # ------------------------------------------------------------------------------------------
    # one shared step: forward, cost
    # ------------------------------------------------------------------------------------------

    def forward(self, x: Tensor) -> Tensor:
        """A^[L]: probabilities for a classifier, predicted values for a regressor."""
        return self.net(x)

    def model_step(self, batch: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """Forward one batch ``(x, y)``: return J, A^[L] and Y, shapes (), (m, n_y), (m, n_y)
        (multiclass: Y as class indices (m,))."""
        x, y = batch[0], batch[1]
        z = self.net.logits(x)  # Z^[L]  (m, n_y)
        if self.task == "multiclass":  # softmax + categorical cross-entropy (dZ = A - Y)
            y = y.reshape(-1).long()
            return F.cross_entropy(z, y), F.softmax(z, dim=-1), y
        y = y.reshape(z.shape).to(z.dtype)
        if self.task == "binary":
            cost = F.binary_cross_entropy_with_logits(z, y)  # cross-entropy from Z^[L]  (§1.2)
            return cost, F.sigmoid(z), y
        a = self.net.output(z)
        return F.mse_loss(a, y), a, y

    # ------------------------------------------------------------------------------------------
    # training: iterations_per_step gradient-descent iterations per batch
    # ------------------------------------------------------------------------------------------

    def _fused(self, opt: Any, world_size: int) -> bool:
        """Plain gradient descent on one process: ``DeepNetwork.gd_step`` does it all."""
        groups = opt.param_groups
        return (self.backward == "explicit" and world_size == 1 and len(groups) == 1
                and type(opt.optimizer) is torch.optim.SGD and groups[0]["momentum"] == 0
                and groups[0]["weight_decay"] == 0 and _step_progress(self.trainer) is not None)

    def training_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        x, y = batch[0], batch[1]
        # class indices (m,) for a softmax output, else Y (m, n_y)
        y = y.reshape(-1).long() if self.task == "multiclass" else y.reshape(x.shape[0], -1)
        n = self.iterations_per_batch()
        world_size = self.trainer.world_size if attached_trainer(self) is not None else 1
        opt = cast(LightningOptimizer, self.optimizers())  # one optimizer
        costs = torch.empty(n, dtype=torch.float64, device=x.device)
        if self._fused(opt, world_size):
            # NOTE: W := W - α dW straight from the engine, no .grad at all (gd_step's gradient
            # buffers are reused step after step). The steps are then counted as optimiser steps
            # so that global_step (checkpoints, max_steps) still counts iterations.
            with torch.autocast(x.device.type, enabled=False):
                if x.device.type == "cpu" and not self._steps_per_iteration():
                    # α is fixed for the n iterations: the whole loop in one call (the compiled
                    # kernel where it runs, else the torch engine: gd_step n times)
                    costs = self.net.gradient_descent(x, y, opt.param_groups[0]["lr"], n)
                else:  # NOTE: gradient_descent reads J every iteration, a sync on a GPU
                    for i in range(n):
                        check = x.device.type == "cpu" or i == 0  # a J read syncs a GPU
                        lr = opt.param_groups[0]["lr"]  # a scheduler may change it
                        costs[i] = self.net.gd_step(x, y, lr, check_values=check)
                        self._step_schedulers("iteration")
            progress = _step_progress(self.trainer)
            assert progress is not None  # _fused checked it
            for _ in range(n):
                progress.increment_ready()
                progress.increment_completed()
        else:
            gradients = explicit_gradients if self.backward == "explicit" else autograd_gradients
            params = list(self.net.parameters())
            for i in range(n):
                costs[i] = gradients(self.net, x, y)  # J; dJ/dθ into .grad (eqs. 2.9-2.12)
                if world_size > 1:
                    all_reduce_gradients(params, world_size)  # mean over the processes' slices
                opt.step()  # w := w - α dw  (Algorithm 1.1); one optimiser step per iteration
                self._step_schedulers("iteration")
        if batch_idx == self.trainer.num_training_batches - 1:
            self._step_schedulers("epoch")  # the epoch's updates are done
        if world_size > 1:
            costs = self.trainer.strategy.reduce(costs, reduce_op="mean")
        self.cost_history.extend(costs.tolist())
        m = x.shape[0]
        self.log("train/J", costs[-1].float(), on_step=True, on_epoch=True, prog_bar=True,
                 batch_size=m, sync_dist=True)  # already the mean over processes
        with torch.no_grad():
            cost, a, y = self.model_step(batch)  # metrics of the updated weights
        self.train_metrics.update(a, y)
        self.log_dict(self.train_metrics, on_step=False, on_epoch=True, batch_size=m)
        return cost

    def iterations_per_batch(self) -> int:
        """``iterations_per_step``, or for ``None``: 100 when an epoch is one full batch (the
        seed's loop, with Lightning's per-step cost paid once per 100 iterations), else 1."""
        if self.iterations_per_step is not None:
            return self.iterations_per_step
        batches = self.trainer.num_training_batches if attached_trainer(self) else 1
        return 100 if batches == 1 else 1

    # when the schedulers are due, and their stepping (see training/schedulers.py)
    _steps_per_iteration = schedulers.steps_per_iteration
    _step_schedulers = schedulers.step_schedulers

    def on_validation_end(self) -> None:
        # NOTE: Lightning has reduced this validation's val/J by now (not yet at epoch end)
        cost = self.trainer.callback_metrics.get("val/J")
        if self.trainer.state.fn == "fit" and not self.trainer.sanity_checking and cost is not None:
            self.val_cost_history.append((len(self.cost_history), float(cost)))
            self._step_schedulers("validation")

    def on_fit_start(self) -> None:
        scaler = getattr(self.trainer.precision_plugin, "scaler", None)
        if scaler is not None and scaler.is_enabled():
            raise ValueError(
                f"precision {self.trainer.precision!r} scales J with a GradScaler, which this "
                "module's own updates do not use; expected '32-true', '64-true' or 'bf16-mixed'"
            )

    #: a scheduler's LightningCLI config (class_path, init_args) for the optimizer below, set by
    #: the command line when ``--lr_scheduler`` comes without ``--optimizer``
    lr_scheduler_init: dict[str, Any] | None = None

    def configure_optimizers(self) -> Any:
        hp: Any = self.hparams
        if hp.optimizer == "adam":
            opt: torch.optim.Optimizer = torch.optim.Adam(self.parameters(), lr=hp.lr)
        else:
            opt = torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=hp.momentum)
        if self.lr_scheduler_init is None:
            return opt
        from lightning.pytorch.cli import instantiate_class

        return [opt], [instantiate_class(opt, self.lr_scheduler_init)]

    # ------------------------------------------------------------------------------------------
    # evaluation
    # ------------------------------------------------------------------------------------------

    def _evaluate(self, batch: Sequence[Tensor], stage: str) -> Tensor:
        cost, a, y = self.model_step(batch)
        metrics = self.val_metrics if stage == "val" else self.test_metrics
        metrics.update(a, y)
        m = a.shape[0]
        self.log(f"{stage}/J", cost, on_epoch=True, prog_bar=stage == "val", batch_size=m,
                 sync_dist=True)
        self.log_dict(metrics, on_epoch=True, batch_size=m)
        return cost

    def validation_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        return self._evaluate(batch, "val")

    def test_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        return self._evaluate(batch, "test")

    def predict_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        """A^[L] for each row of the batch (probabilities, or values for regression)."""
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self(x)

    # ------------------------------------------------------------------------------------------
    # the cost curve travels in the checkpoint, so a resumed run plots every iteration
    # ------------------------------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["cost_history"] = torch.tensor(self.cost_history, dtype=torch.float64)
        checkpoint["val_cost_history"] = torch.tensor(self.val_cost_history,
                                                      dtype=torch.float64).reshape(-1, 2)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        history = checkpoint.get("cost_history")
        self.cost_history = [] if history is None else history.tolist()
        val = checkpoint.get("val_cost_history")
        self.val_cost_history = [] if val is None else [(int(i), j) for i, j in val.tolist()]
