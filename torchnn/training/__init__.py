"""torchnn.training: the LightningModule, the full-batch loop, plots, callbacks, run folders.

Public API::

    DeepNetworkModule     the LightningModule (explicit backprop or autograd, many iterations/step)
    IterationProgressBar  one progress bar in gradient-descent iterations
    RunArtifacts          cost.csv, cost.png, metrics.png, decision_boundary.png, summary.json
    RunCheckpoint         ModelCheckpoint whose last.ckpt is always the last state
    RunLogger             CSVLogger for runs/<name>/version_N that survives a resume
    PredictionWriter      predictions.csv: row, probability / prediction (or value), target
    plot_cost, plot_metrics, plot_decision_boundary, check_checkpoint, latest_run, quiet_lightning
"""

from torchnn.training.callbacks import RunArtifacts, RunCheckpoint, final_metrics, metric_history
from torchnn.training.descent import (
    all_reduce_gradients,
    autograd_gradients,
    explicit_gradients,
)
from torchnn.training.metrics import make_metrics
from torchnn.training.module import DeepNetworkModule
from torchnn.training.plots import plot_cost, plot_decision_boundary, plot_metrics
from torchnn.training.predictions import PredictionWriter, prediction_table
from torchnn.training.progress import IterationProgressBar
from torchnn.training.quiet import quiet_lightning
from torchnn.training.runs import (
    SUMMARY_FILE,
    CheckpointError,
    RunLogger,
    check_checkpoint,
    fit_progress,
    latest_run,
    run_version_of,
)

__all__ = [
    "SUMMARY_FILE",
    "CheckpointError",
    "DeepNetworkModule",
    "IterationProgressBar",
    "PredictionWriter",
    "RunArtifacts",
    "RunCheckpoint",
    "RunLogger",
    "all_reduce_gradients",
    "autograd_gradients",
    "check_checkpoint",
    "explicit_gradients",
    "final_metrics",
    "fit_progress",
    "latest_run",
    "make_metrics",
    "metric_history",
    "plot_cost",
    "plot_decision_boundary",
    "plot_metrics",
    "prediction_table",
    "quiet_lightning",
    "run_version_of",
]
