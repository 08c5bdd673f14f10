"""Fitted state in checkpoints, and new rows standardised with the training statistics."""

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from torchnn.data import CSVDataModule, DiabetesDataModule, TabularDataModule

RNG = np.random.default_rng(0)
X_ALL = RNG.normal(loc=[3.0, -2.0, 10.0], scale=[2.0, 0.5, 4.0], size=(60, 3))
Y_ALL = (X_ALL[:, 0] > 3.0).astype(int)


def _csv(path: Path, columns: list[str], X: np.ndarray, y: np.ndarray | None = None) -> Path:
    """Write ``X`` (and ``y`` last) under ``columns`` with full float precision."""
    rows = [",".join(map(repr, map(float, r))) + ("" if y is None else f",{int(t)}")
            for r, t in zip(X, y if y is not None else X[:, 0], strict=True)]
    path.write_text("\n".join([",".join(columns), *rows]) + "\n")
    return path


class _Probe(pl.LightningModule):
    def __init__(self, n_x: int) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(n_x, 1)

    def forward(self, x):
        return torch.sigmoid(self.layer(x))

    def training_step(self, batch, batch_idx):
        return torch.nn.functional.binary_cross_entropy(self(batch[0]), batch[1])

    def validation_step(self, batch, batch_idx):
        pass

    def predict_step(self, batch, batch_idx):
        return self(batch[0])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _trainer(tmp_path: Path) -> pl.Trainer:
    return pl.Trainer(max_epochs=2, default_root_dir=tmp_path, logger=False,
                      enable_progress_bar=False, enable_model_summary=False,
                      enable_checkpointing=False)


@pytest.fixture
def trained(tmp_path):
    """A probe fitted on train.csv, its checkpoint, and the raw training split for reference."""
    train = _csv(tmp_path / "train.csv", ["a", "b", "c", "label"], X_ALL, Y_ALL)
    dm = CSVDataModule(str(train), target="label", val_fraction=0.25)
    model, trainer = _Probe(3), _trainer(tmp_path)
    trainer.fit(model, datamodule=dm)
    trainer.save_checkpoint(tmp_path / "model.ckpt")
    return model, tmp_path / "model.ckpt", X_ALL[dm.train_indices]


def test_checkpoint_holds_the_fitted_state_loadable_weights_only(trained):
    _, ckpt, X_train = trained
    state = torch.load(ckpt, weights_only=True)["CSVDataModule"]
    assert state["task"] == "binary" and state["feature_names"] == ["a", "b", "c"]
    assert state["target_name"] == "label"
    assert state["mean"].dtype == torch.float64
    np.testing.assert_allclose(state["mean"].numpy(), X_train.mean(0), rtol=1e-12)
    np.testing.assert_allclose(state["std"].numpy(), X_train.std(0), rtol=1e-12)
    assert (state["target_mean"], state["target_std"]) == (0.0, 1.0)  # binary: not scaled


def test_new_rows_use_training_statistics_without_the_training_file(trained, tmp_path):
    model, ckpt, X_train = trained
    (tmp_path / "train.csv").unlink()
    new = X_ALL[:7] * 3.0  # other statistics: a refit would give other inputs
    # columns in another order, target absent
    path = _csv(tmp_path / "new.csv", ["c", "a", "b"], new[:, [2, 0, 1]])
    dm = CSVDataModule.load_from_checkpoint(ckpt, predict_path=str(path), weights_only=True)
    rows = dm.prepare_predict(path)
    expected = (new - X_train.mean(0)) / X_train.std(0)
    np.testing.assert_allclose(rows.x.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert rows.row.tolist() == list(range(7)) and rows.y is None
    np.testing.assert_allclose(dm.prepare_predict(new).x.numpy(), expected, rtol=1e-5, atol=1e-6)
    # the Trainer path: Lightning restores model and data state from the checkpoint
    dm = CSVDataModule(str(tmp_path / "train.csv"), target="label", predict_path=str(path))
    assert dm.predict_description == f"every row of '{path}'"
    out = torch.cat(_trainer(tmp_path).predict(_Probe(3), datamodule=dm, ckpt_path=ckpt))
    reference = model(torch.tensor(expected, dtype=torch.float32))
    torch.testing.assert_close(out, reference, rtol=1e-6, atol=1e-6)


def test_one_row_alone_and_among_fifty_give_the_same_probability(trained, tmp_path):
    model, ckpt, _ = trained
    new = RNG.normal(size=(50, 3)) * 4
    one = _csv(tmp_path / "one.csv", ["a", "b", "c"], new[17:18])
    fifty = _csv(tmp_path / "fifty.csv", ["a", "b", "c", "label"], new, np.ones(50))
    dm = CSVDataModule.load_from_checkpoint(ckpt, weights_only=True)
    alone, among = dm.prepare_predict(one), dm.prepare_predict(fifty)
    assert among.y[:, 0].tolist() == [1.0] * 50  # the target is read when present
    torch.testing.assert_close(model(alone.x)[0], model(among.x)[17], rtol=0, atol=1e-6)


def test_batches_carry_row_numbers_and_target(trained, tmp_path):
    _, ckpt, _ = trained
    path = _csv(tmp_path / "new.csv", ["a", "b", "c", "label"], X_ALL[:5], Y_ALL[:5])
    dm = CSVDataModule.load_from_checkpoint(ckpt, predict_path=str(path), batch_size=2)
    batches = list(dm.predict_dataloader())
    assert [len(b) for b in batches] == [3, 3, 3]  # (x, row, y)
    assert torch.cat([b[1] for b in batches]).tolist() == [0, 1, 2, 3, 4]
    assert torch.cat([b[2] for b in batches])[:, 0].tolist() == Y_ALL[:5].tolist()


@pytest.mark.parametrize("columns,message", [
    (["a", "b"], r"missing \['c'\]; expected \['a', 'b', 'c'\] and optionally the target"),
    (["a", "b", "c", "id"], r"extra \['id'\]; expected"),
    (["a", "id", "c"], r"missing \['b'\]; extra \['id'\]; expected"),
])
def test_columns_that_do_not_match_name_missing_and_extra(trained, tmp_path, columns, message):
    _, ckpt, _ = trained
    path = _csv(tmp_path / "bad.csv", columns, np.ones((2, len(columns))))
    with pytest.raises(ValueError, match=f"'{path}' columns do not match the training "
                                         f"features: {message}") as info:
        CSVDataModule.load_from_checkpoint(ckpt, predict_path=str(path))
    assert "\n" not in str(info.value)


def test_bad_new_rows_name_file_line_column_and_value(trained, tmp_path):
    _, ckpt, _ = trained
    path = tmp_path / "new.csv"
    path.write_text("a,b,c\n1,2,3\n4,x,6\n")
    dm = CSVDataModule.load_from_checkpoint(ckpt, weights_only=True)
    with pytest.raises(ValueError, match=r"line 3, column 'b': non-numeric value 'x'"):
        dm.prepare_predict(path)
    for bad in (np.ones(3), np.ones((0, 3)), np.ones((2, 4))):
        with pytest.raises(ValueError, match=r"shape \(k, 3\) with k >= 1, one column per "
                                             r"feature \['a', 'b', 'c'\]; got shape"):
            dm.prepare_predict(bad)
    with pytest.raises(ValueError, match=r"x contains a non-finite value nan at index \(1, 2\)"):
        dm.prepare_predict(np.array([[1.0, 2, 3], [4, 5, np.nan]]))


def test_module_without_table_needs_a_restored_state(tmp_path):
    path = _csv(tmp_path / "new.csv", ["a", "b"], np.ones((2, 2)))
    dm = CSVDataModule(str(tmp_path / "gone.csv"), target="label", predict_path=str(path))
    assert dm.num_features == 2 and dm.num_examples == 0  # from new.csv's header until restored
    with pytest.raises(ValueError, match="no table and no restored state; expected load_state"):
        dm.prepare_predict(path)
    with pytest.raises(ValueError, match=r"no table \(CSV file not found: '.*gone.csv'\)"):
        dm.train_dataloader()
    with pytest.raises(FileNotFoundError, match="gone.csv"):  # without predict_path: as before
        CSVDataModule(str(tmp_path / "gone.csv"), target="label")


def test_restored_state_replaces_the_fit_and_is_checked(tmp_path):
    X, y = X_ALL, Y_ALL
    source = TabularDataModule(X * 2 + 1, y, val_fraction=0.0)
    dm = TabularDataModule(X, y, val_fraction=0.0)
    dm.load_state_dict(source.state_dict())
    expected = (X - (X * 2 + 1).mean(0)) / (X * 2 + 1).std(0)
    np.testing.assert_allclose(dm.full_train_tensors()[0].numpy(), expected[dm.train_indices],
                               rtol=1e-5, atol=1e-6)
    other = TabularDataModule(X, y, feature_names=["p", "q", "r"])
    with pytest.raises(ValueError, match=r"features \['x1', 'x2', 'x3'\] differ from .*'p'"):
        other.load_state_dict(dm.state_dict())
    regression = TabularDataModule(X, X[:, 0], task="regression")
    with pytest.raises(ValueError, match="data task is 'binary' but TabularDataModule has task "
                                         "'regression'"):
        regression.load_state_dict(dm.state_dict())


def test_regression_state_maps_predictions_back_to_target_units():
    dm = DiabetesDataModule()
    state = dm.state_dict()
    y_train = dm._y[dm.train_indices]
    assert state["target_name"] == "progression" and state["feature_names"][:3] == [
        "age", "sex", "bmi"]
    assert state["target_mean"] == pytest.approx(y_train.mean(), rel=1e-12)
    assert state["target_std"] == pytest.approx(y_train.std(), rel=1e-12)
    restored = TabularDataModule.from_fitted_state(state)  # no table: prediction only
    back = restored.inverse_transform_target(torch.tensor([[0.0], [1.0]], dtype=torch.float64))
    np.testing.assert_allclose(back[:, 0].numpy(), [y_train.mean(), y_train.mean() + y_train.std()])
