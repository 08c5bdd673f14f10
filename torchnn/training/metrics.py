"""One torchmetrics ``MetricCollection`` per stage: accuracy, F1, AUROC or MSE, MAE, R²."""

from __future__ import annotations

from torchmetrics import Metric, MetricCollection

__all__ = ["TASKS", "make_metrics"]

TASKS = ("binary", "multiclass", "regression")


def make_metrics(task: str, prefix: str, num_classes: int | None = None) -> MetricCollection:
    """The metrics of ``task``, named ``{prefix}{name}``.

    Binary: ``acc`` (threshold 0.5 on A^[L]), ``f1``, ``auroc``, updated with ``(A^[L], Y)`` of
    shape ``(m, 1)``; multiclass (``num_classes`` = C): ``acc``, macro ``f1``, macro one-vs-rest
    ``auroc``, updated with the probabilities ``(m, C)`` and class indices ``(m,)``; regression:
    ``mse``, ``mae``, ``r2``, updated with ``(m, 1)`` values.
    """
    if task == "binary":
        from torchmetrics.classification import BinaryAccuracy, BinaryAUROC, BinaryF1Score

        metrics: dict[str, Metric | MetricCollection] = {
            "acc": BinaryAccuracy(), "f1": BinaryF1Score(), "auroc": BinaryAUROC()}
    elif task == "multiclass":
        from torchmetrics.classification import (
            MulticlassAccuracy,
            MulticlassAUROC,
            MulticlassF1Score,
        )

        if not num_classes or num_classes < 2:
            raise ValueError(f"multiclass metrics need num_classes >= 2, got {num_classes!r}")
        # NOTE: accuracy over all examples (micro), as the binary one; F1 and AUROC per class,
        # then their mean (macro), so a small class counts as much as a large one
        metrics = {"acc": MulticlassAccuracy(num_classes, average="micro"),
                   "f1": MulticlassF1Score(num_classes, average="macro"),
                   "auroc": MulticlassAUROC(num_classes, average="macro")}
    elif task == "regression":
        from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError, R2Score

        metrics = {"mse": MeanSquaredError(), "mae": MeanAbsoluteError(), "r2": R2Score()}
    else:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    return MetricCollection(metrics, prefix=prefix)
