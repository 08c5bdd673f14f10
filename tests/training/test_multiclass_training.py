"""Multi-class networks from the command line: softmax output, n_y from the data, multi-class
torchmetrics, one probability column per class in predictions.csv; the two shipped configs
reach their targets."""

import csv
import json

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score

from tests.training.helpers import CONFIGS, QUIET, quick_trainer
from torchnn.cli import main
from torchnn.data import CSVDataModule, SpiralDataModule
from torchnn.training import DeepNetworkModule


def _summary(tmp_path, name):
    return json.loads((tmp_path / "runs" / name / "version_0" / "summary.json").read_text())


def test_spiral_config_reaches_098_training_accuracy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(CONFIGS / "spiral.yaml"), *QUIET])
    summary = _summary(tmp_path, "spiral")
    assert summary["iterations"] == 3000 and summary["metrics"]["train/acc"] >= 0.98
    run = tmp_path / "runs" / "spiral" / "version_0"
    assert (run / "decision_boundary.png").is_file()
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["hyper_parameters"]["n_y"] == 3  # linked to the data's classes


def test_digits_config_reaches_095_validation_accuracy_and_predicts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["--config", str(CONFIGS / "digits.yaml"), *QUIET]
    main(["fit", *base])
    assert _summary(tmp_path, "digits")["metrics"]["val/acc"] >= 0.95
    main(["predict", *base, "--ckpt_path", "last"])
    with open(tmp_path / "runs" / "digits" / "version_0" / "predictions.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["row", "prediction", *(f"probability_{d}" for d in range(10)), "digit"]
    p = np.array([[float(v) for v in r[2:12]] for r in rows[1:]])
    predicted = np.array([int(r[1]) for r in rows[1:]])
    target = np.array([int(r[12]) for r in rows[1:]])
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)
    assert (predicted == p.argmax(1)).all() and len(rows) == 1 + 359  # the test split
    assert accuracy_score(target, predicted) >= 0.93


def test_module_metrics_equal_sklearns_on_the_same_predictions():
    data = SpiralDataModule(val_fraction=0.3, seed=0)
    module = DeepNetworkModule(n_x=2, hidden_units=[16], n_y=3, hidden_activation="relu",
                               output_activation="softmax", init="he", lr=1.0,
                               iterations_per_step=50)
    quick_trainer(max_epochs=2).fit(module, data)
    x, y = data.val_dataset.tensors
    with torch.no_grad():
        predicted = module(x).argmax(1).numpy()
    metrics = quick_trainer().validate(module, datamodule=data, verbose=False)[0]
    assert metrics["val/acc"] == pytest.approx(accuracy_score(y.numpy(), predicted), abs=1e-6)
    assert metrics["val/f1"] == pytest.approx(f1_score(y.numpy(), predicted, average="macro"),
                                              abs=1e-5)


@pytest.mark.parametrize("backward", ["explicit", "autograd"])
def test_both_backwards_train_the_same_softmax_network(backward):
    torch.manual_seed(0)
    data = SpiralDataModule(val_fraction=0.0)
    module = DeepNetworkModule(n_x=2, hidden_units=[8], n_y=3, hidden_activation="tanh",
                               output_activation="softmax", init="xavier", lr=0.5,
                               iterations_per_step=10, backward=backward)
    reference = DeepNetworkModule(n_x=2, hidden_units=[8], n_y=3, hidden_activation="tanh",
                                  output_activation="softmax", init="xavier", lr=0.5,
                                  iterations_per_step=10,
                                  backward="autograd" if backward == "explicit" else "explicit")
    reference.load_state_dict(module.state_dict())
    for m in (module, reference):
        quick_trainer(max_epochs=2, limit_val_batches=0, precision="64-true").fit(m, data)
    for a, b in zip(module.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert module.cost_history[-1] < module.cost_history[0]


def test_a_multiclass_csv_trains_and_predicts_a_column_per_class(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = np.random.default_rng(0).normal(size=(150, 2))
    label = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)  # 0, 1, 2
    np.savetxt("three.csv", np.column_stack([x, label]), fmt="%.5f", delimiter=",",
               header="a,b,kind", comments="")
    args = ["--config", str(CONFIGS / "csv.yaml"), *QUIET, "--data.init_args.path", "three.csv",
            "--data.init_args.target", "kind", "--data.init_args.task", "multiclass",
            "--model.output_activation", "softmax", "--trainer.max_epochs", "5"]
    main(["fit", *args])
    assert CSVDataModule("three.csv", target="kind", task="multiclass").num_outputs == 3
    main(["predict", *args, "--ckpt_path", "last"])
    header = (tmp_path / "runs" / "csv" / "version_0" / "predictions.csv").read_text()
    assert header.splitlines()[0] == ("row,prediction,probability_0,probability_1,"
                                      "probability_2,kind")


def test_a_sigmoid_network_on_multiclass_data_is_a_one_line_error(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--config", str(CONFIGS / "spiral.yaml"), *QUIET,
              "--model.output_activation", "sigmoid"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "data task is 'multiclass'" in err[-1] and "'softmax' for multiclass" in err[-1]
    assert not (tmp_path / "runs").exists()
