"""What a run leaves: plots that are real PNGs, cost.csv, summary.json only on success."""

import json

import lightning.pytorch as L
import matplotlib.image
import pytest
import torch

from tests.training.helpers import flower_data, flower_module, quick_trainer
from torchnn.training import (
    SUMMARY_FILE,
    DeepNetworkModule,
    RunArtifacts,
    RunLogger,
    plot_cost,
    plot_decision_boundary,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _check_png(path, min_side=300):
    assert path.read_bytes()[:8] == PNG
    image = matplotlib.image.imread(path)
    assert image.shape[0] >= min_side and image.shape[1] >= min_side
    assert image.std() > 0.05  # not a blank canvas


def test_plots_are_valid_pngs(tmp_path):
    plot_cost([0.7, 0.5, 0.3, 0.25], tmp_path / "cost.png")
    _check_png(tmp_path / "cost.png")
    x = torch.randn(50, 2)
    y = (x[:, 0] > 0).float()
    plot_decision_boundary(lambda g: torch.sigmoid(5 * g[:, :1]), x, y, tmp_path / "db.png",
                           steps=50)
    _check_png(tmp_path / "db.png")
    with pytest.raises(ValueError, match=r"got \(50, 3\)"):
        plot_decision_boundary(lambda g: g, torch.randn(50, 3), y, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="no cost values"):
        plot_cost([], tmp_path / "empty.png")


def _artifact_trainer(tmp_path, **kwargs):
    return quick_trainer(logger=RunLogger(str(tmp_path), name="t"), callbacks=[RunArtifacts()],
                         **kwargs)


def test_a_finished_run_writes_every_artifact(tmp_path, capsys):
    module = flower_module(iterations_per_step=20)
    _artifact_trainer(tmp_path, max_epochs=3).fit(module, flower_data())
    run = tmp_path / "t" / "version_0"
    summary = json.loads((run / SUMMARY_FILE).read_text())
    assert summary["status"] == "complete" and summary["iterations"] == 60
    assert summary["final_cost"] == module.cost_history[-1]
    lines = (run / "cost.csv").read_text().splitlines()
    assert lines[0] == "iteration,J" and len(lines) == 61
    assert float(lines[-1].split(",")[1]) == module.cost_history[-1]
    _check_png(run / "cost.png")
    _check_png(run / "decision_boundary.png")
    assert "Trained 60 gradient-descent iterations" in capsys.readouterr().out


class _Explodes(DeepNetworkModule):
    def training_step(self, batch, batch_idx):
        if self.current_epoch == 1:
            raise RuntimeError("boom")
        return super().training_step(batch, batch_idx)


def test_a_failed_run_never_looks_complete(tmp_path):
    L.seed_everything(1, verbose=False)
    module = _Explodes(n_x=2, iterations_per_step=5)
    with pytest.raises(RuntimeError, match="boom"):
        _artifact_trainer(tmp_path, max_epochs=3).fit(module, flower_data())
    run = tmp_path / "t" / "version_0"
    assert not (run / SUMMARY_FILE).exists()
    assert "RuntimeError: boom" in (run / "error.txt").read_text()


def test_logistic_regression_baseline_cannot_fit_the_flower():
    """The course: 47% for logistic regression (the 2-layer network: 90.5%)."""
    L.seed_everything(1, verbose=False)
    module = DeepNetworkModule(n_x=2, hidden_units=[], lr=1.2, iterations_per_step=100)
    trainer = quick_trainer(max_epochs=20)
    trainer.fit(module, flower_data())
    assert trainer.callback_metrics["train/acc"] < 0.60
    assert module.cost_history[-1] > 0.6  # J stays near log 2: no line separates the petals
