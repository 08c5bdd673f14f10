"""The run's pictures: training and validation J, the metrics over the epochs, a decision
boundary whose legend names the classes and the two kinds of points; each also goes to a logger
that takes figures (TensorBoard's ``add_figure``)."""

import importlib.util

import lightning.pytorch as L
import numpy as np
import pytest
from lightning.pytorch.loggers import Logger

from tests.training.helpers import CONFIGS, QUIET, ROOT
from torchnn.cli import main
from torchnn.data import CSVDataModule
from torchnn.training import DeepNetworkModule, RunArtifacts, RunLogger, metric_history


class _Figures:
    def __init__(self):
        self.figures = {}

    def add_figure(self, tag, figure, global_step=None):
        self.figures[tag] = (figure, global_step)


class FigureLogger(Logger):
    """A logger whose experiment takes figures, as TensorBoard's SummaryWriter does."""

    def __init__(self):
        super().__init__()
        self._experiment = _Figures()

    name = "figures"
    version = 0

    @property
    def experiment(self):
        return self._experiment

    def log_metrics(self, metrics, step=None):
        pass

    def log_hyperparams(self, params, *args, **kwargs):
        pass


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    L.seed_everything(1, verbose=False)
    data = CSVDataModule(str(ROOT / "examples" / "xor.csv"), target="label", val_fraction=0.2)
    model = DeepNetworkModule(n_x=2, hidden_units=[8], init="xavier", lr=1.0,
                              iterations_per_step=25)
    figures = FigureLogger()
    trainer = L.Trainer(max_epochs=6, logger=[RunLogger(str(folder), name="xor"), figures],
                        enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, log_every_n_steps=1,
                        callbacks=[RunArtifacts(verbose=False)])
    trainer.fit(model, datamodule=data)
    return folder / "xor" / "version_0", model, data, figures.experiment.figures


def _legend(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_every_picture_is_a_file_and_a_logger_figure(run):
    log_dir, _, _, figures = run
    assert sorted(figures) == ["torchnn/cost", "torchnn/decision_boundary", "torchnn/metrics"]
    assert all(step == 150 for _, step in figures.values())  # the iterations done
    for name in ("cost", "metrics", "decision_boundary"):
        assert (log_dir / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_cost_picture_has_the_validation_curve(run):
    _, model, _, figures = run
    ax = figures["torchnn/cost"][0].axes[0]
    assert _legend(ax) == ["training J (every iteration)", "validation J"]
    train, val = ax.get_lines()
    np.testing.assert_allclose(train.get_ydata(), model.cost_history)
    assert len(model.val_cost_history) == 6  # one per epoch
    np.testing.assert_array_equal(val.get_xdata(), [25, 50, 75, 100, 125, 150])
    np.testing.assert_allclose(val.get_ydata(), [j for _, j in model.val_cost_history])
    assert val.get_ydata()[-1] < val.get_ydata()[0]


def test_metrics_picture_has_a_panel_per_metric_with_both_stages(run):
    log_dir, _, _, figures = run
    axes = figures["torchnn/metrics"][0].axes
    assert sorted(ax.get_title() for ax in axes) == ["acc", "auroc", "f1"]
    history = metric_history(log_dir / "metrics.csv")
    for ax in axes:
        assert _legend(ax) == ["train", "val"]
        for line, stage in zip(ax.get_lines(), ("train", "val")):
            epochs, values = history[ax.get_title()][stage]
            assert epochs == list(range(6))
            np.testing.assert_allclose(line.get_ydata(), values)


def test_decision_boundary_names_the_classes_and_marks_validation_points(run):
    _, _, data, figures = run
    ax = figures["torchnn/decision_boundary"][0].axes[0]
    assert _legend(ax) == ["label = 0", "label = 1", "training points", "validation points"]
    train, val = ax.collections[-2:]  # the scatter plots after the contour regions
    assert len(train.get_offsets()) == len(data.train_indices) == 192
    assert len(val.get_offsets()) == len(data.val_indices) == 48
    assert train.get_paths()[0] != val.get_paths()[0]  # circles and triangles


def test_metric_history_reads_epoch_rows(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train/J,train/r2,val/J,val/r2\n0,0,0.5,,,\n0,0,,0.1,,\n"
                    "0,0,,,0.6,0.05\n1,1,,0.3,0.4,0.2\n")
    assert metric_history(path) == {"r2": {"train": ([0, 1], [0.1, 0.3]),
                                           "val": ([0, 1], [0.05, 0.2])}}
    assert metric_history(tmp_path / "missing.csv") == {}


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is not None
                    or importlib.util.find_spec("tensorboardX") is not None,
                    reason="tensorboard is installed")
def test_a_logger_without_its_package_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--config", str(CONFIGS / "flower.yaml"), *QUIET,
              "--trainer.logger", "TensorBoardLogger", "--trainer.logger.save_dir", "runs"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'torchnn[tensorboard]'" in err[0], err
    assert list(tmp_path.iterdir()) == []
