"""``torchnn predict`` on new rows: a CSV with or without its target, after the training file is
gone, written to ``predictions.csv`` in the checkpoint's run folder by ``PredictionWriter``."""

import csv
import shutil

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes

from tests.training.helpers import CONFIGS, QUIET, ROOT, folder_bytes
from torchnn.cli import main
from torchnn.data import CSVDataModule
from torchnn.training import DeepNetworkModule, prediction_table

# the training file in the working folder (the shipped config's own example ships in the package)
CSV = ["--config", str(CONFIGS / "csv.yaml"), "--data.init_args.path", "train.csv",
       "--trainer.max_epochs", "3", *QUIET]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    """A csv.yaml run trained on a copy of examples/xor.csv; the copy is then deleted."""
    folder = tmp_path_factory.mktemp("csv_run")
    train = folder / "train.csv"
    shutil.copy(ROOT / "examples" / "xor.csv", train)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        main(["fit", *CSV])
    # the statistics the fit used, before the file goes
    dm = CSVDataModule(str(train), target="label", val_fraction=0.2, seed=0)
    dm.setup()
    table = np.loadtxt(train, delimiter=",", skiprows=1)
    train.unlink()
    return folder, folder / "runs" / "csv" / "version_0", dm.mean_, dm.std_, table


def _predict(folder, new, monkeypatch, *extra):
    monkeypatch.chdir(folder)
    main(["predict", *CSV, "--ckpt_path", "last", "--data.init_args.predict_path", str(new),
          *extra])


def _write(path, header, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def test_new_rows_without_training_file_use_training_statistics(csv_run, monkeypatch):
    folder, run, mean, std, table = csv_run
    fit_files = {k: v for k, v in folder_bytes(run).items() if k.name != "predictions.csv"}
    # the features in the other order and the target: both allowed
    new = _write(folder / "new.csv", ["x2", "label", "x1"],
                 [[r[1], int(r[2]), r[0]] for r in table[:7]])
    _predict(folder, new, monkeypatch)
    rows = _rows(run / "predictions.csv")
    assert rows[0] == ["row", "probability", "prediction", "label"]
    assert [int(r[0]) for r in rows[1:]] == list(range(7))
    model = DeepNetworkModule.load_from_checkpoint(run / "checkpoints" / "last.ckpt",
                                                   weights_only=True)
    x = torch.tensor((table[:7, :2] - mean) / std, dtype=torch.float32)
    expected = model(x)[:, 0].detach().numpy()
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], expected, rtol=1e-6)
    assert [int(r[2]) for r in rows[1:]] == (expected > 0.5).astype(int).tolist()
    assert [int(r[3]) for r in rows[1:]] == table[:7, 2].astype(int).tolist()
    after = folder_bytes(run)
    assert {k: v for k, v in after.items() if k.name != "predictions.csv"} == fit_files

    # without the target column; a repeat replaces the file
    _write(new, ["x1", "x2"], table[:3, :2].tolist())
    _predict(folder, new, monkeypatch)
    rows = _rows(run / "predictions.csv")
    assert rows[0] == ["row", "probability", "prediction"] and len(rows) == 4
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], expected[:3], rtol=1e-6)


def test_one_row_alone_and_among_fifty_give_the_same_probability(csv_run, monkeypatch):
    folder, run, _, _, table = csv_run
    fifty = _write(folder / "fifty.csv", ["x1", "x2"], table[:50, :2].tolist())
    _predict(folder, fifty, monkeypatch)
    among = _rows(run / "predictions.csv")[1 + 17]
    one = _write(folder / "one.csv", ["x1", "x2"], [table[17, :2].tolist()])
    _predict(folder, one, monkeypatch)
    alone = _rows(run / "predictions.csv")[1]
    assert alone[0] == "0" and among[0] == "17"
    assert abs(float(alone[1]) - float(among[1])) <= 1e-6


@pytest.mark.parametrize("header,message", [
    (["x1", "zz"], "missing ['x2']; extra ['zz']"),
    (["x1", "x2", "label", "extra"], "extra ['extra']"),
])
def test_mismatched_columns_are_one_line_errors_that_write_nothing(
        csv_run, monkeypatch, capsys, header, message):
    folder, run, _, _, _ = csv_run
    bad = _write(folder / "bad.csv", header, [[1] * len(header)])
    before = folder_bytes(run)
    with pytest.raises(SystemExit) as exit_:
        _predict(folder, bad, monkeypatch)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("torchnn: error: ") and message in err[-1], err
    assert folder_bytes(run) == before


def test_housing_predictions_are_in_the_targets_units(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["--config", str(CONFIGS / "housing.yaml"), "--trainer.max_epochs", "2", *QUIET]
    main(["fit", *base])
    capsys.readouterr()
    main(["predict", *base, "--ckpt_path", "last"])
    out = capsys.readouterr().out
    assert "Predicting the held-out validation split: 88 of the 442 rows" in out
    run = tmp_path / "runs" / "housing" / "version_0"
    rows = _rows(run / "predictions.csv")
    assert rows[0] == ["row", "prediction", "progression"] and len(rows) == 89
    target = load_diabetes().target  # the table's own units (disease progression, 25-346)
    index = [int(r[0]) for r in rows[1:]]
    assert index == sorted(index)
    np.testing.assert_array_equal([float(r[2]) for r in rows[1:]], target[index])
    predicted = np.array([float(r[1]) for r in rows[1:]])
    assert 25 < predicted.mean() < 346 and predicted.std() > 5  # not standardised values
    r2 = 1 - ((predicted - target[index]) ** 2).sum() / ((target[index] - target[index].mean())
                                                         ** 2).sum()
    assert r2 > 0.2


def test_prediction_table_for_a_regressor_without_a_data_module():
    header, lines = prediction_table(torch.tensor([[0.5], [2.0]]), torch.tensor([4, 9]),
                                     torch.tensor([[1.0], [2.5]]), "regression")
    assert header == ["row", "prediction", "target"]
    assert lines == [[4, "0.5", "1.0"], [9, "2.0", "2.5"]]
