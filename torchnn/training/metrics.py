"""One torchmetrics ``MetricCollection`` per stage: accuracy, F1, AUROC or MSE, MAE, R²."""

from __future__ import annotations

from torchmetrics import MetricCollection

__all__ = ["TASKS", "make_metrics"]

TASKS = ("binary", "regression")


def make_metrics(task: str, prefix: str) -> MetricCollection:
    """The metrics of ``task`` (``"binary"`` or ``"regression"``), named ``{prefix}{name}``.

    Binary: ``acc`` (threshold 0.5 on A^[L]), ``f1``, ``auroc``; regression: ``mse``, ``mae``,
    ``r2``. Each collection is updated with ``(A^[L], Y)`` of shape ``(m, 1)``.
    """
    if task == "binary":
        from torchmetrics.classification import BinaryAccuracy, BinaryAUROC, BinaryF1Score

        metrics = {"acc": BinaryAccuracy(), "f1": BinaryF1Score(), "auroc": BinaryAUROC()}
    elif task == "regression":
        from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError, R2Score

        metrics = {"mse": MeanSquaredError(), "mae": MeanAbsoluteError(), "r2": R2Score()}
    else:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    return MetricCollection(metrics, prefix=prefix)
