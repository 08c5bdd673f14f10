"""TabularDataModule: seeded splits, train-only standardisation, loaders and input checks."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchnn.data import TabularDataModule, split_indices


def _table(m: int = 50, n_x: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=5.0, scale=3.0, size=(m, n_x))
    return X, (X[:, 0] > 5.0).astype(float)


def _datamodule(**kwargs) -> TabularDataModule:
    X, y = _table()
    dm = TabularDataModule(X, y, **{"task": "binary", "val_fraction": 0.2, **kwargs})
    dm.setup()
    return dm


# ----------------------------------------------------------------------------- splits


def test_same_seed_gives_same_splits_and_values():
    a, b = _datamodule(seed=3, test_fraction=0.2), _datamodule(seed=3, test_fraction=0.2)
    for split in ("train_dataset", "val_dataset", "test_dataset"):
        for ta, tb in zip(getattr(a, split).tensors, getattr(b, split).tensors, strict=True):
            assert torch.equal(ta, tb)


def test_different_seed_gives_different_split():
    a, b = _datamodule(seed=3), _datamodule(seed=4)
    assert not torch.equal(a.train_dataset.tensors[0], b.train_dataset.tensors[0])


@pytest.mark.parametrize(
    "m,val,test", [(50, 0.2, 0.2), (7, 0.3, 0.0), (400, 0.0, 0.1), (3, 0.0, 0.0)]
)
def test_splits_are_disjoint_and_cover_the_data(m, val, test):
    train, val_ix, test_ix = split_indices(m, val, test, seed=0)
    assert len(val_ix) == round(m * val) and len(test_ix) == round(m * test)
    assert sorted(np.concatenate([train, val_ix, test_ix]).tolist()) == list(range(m))


@settings(max_examples=50, deadline=None)
@given(m=st.integers(1, 500), val=st.floats(0, 0.45), test=st.floats(0, 0.45),
       seed=st.integers(0, 2**32 - 1))
def test_split_partitions_any_table(m, val, test, seed):
    try:
        parts = split_indices(m, val, test, seed)
    except ValueError as error:  # only when no training example would be left
        assert "leave no training data" in str(error) and m - round(m * val) - round(m * test) < 1
        return
    assert len(parts[0]) >= 1
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(m))
    assert all(np.array_equal(a, b) for a, b in zip(parts, split_indices(m, val, test, seed),
                                                     strict=True))


def test_split_rows_are_rows_of_the_table():
    X, y = _table()
    dm = _datamodule(standardize=False, test_fraction=0.2)
    rows = {tuple(np.float32(r)) for r in X}
    seen = [tuple(r.tolist()) for s in (dm.train_dataset, dm.val_dataset, dm.test_dataset)
            for r in s.tensors[0].numpy()]
    assert len(seen) == len(X) and set(seen) == rows


def test_zero_val_fraction_validates_on_the_training_split():
    dm = _datamodule(val_fraction=0.0)
    assert dm.val_dataset is dm.train_dataset and len(dm.train_dataset) == 50
    assert dm.test_dataset is None


def test_test_dataloader_without_test_split_names_the_fraction():
    with pytest.raises(ValueError, match="test_fraction is 0.0"):
        _datamodule().test_dataloader()


def test_predict_uses_test_split_else_val_split_in_table_order():
    X, y = _table()
    for kwargs, index in (({"test_fraction": 0.2}, "test_indices"), ({}, "val_indices"),
                          ({"val_fraction": 0.0}, "train_indices")):
        dm = _datamodule(**kwargs)
        ((x, row, target),) = list(dm.predict_dataloader())  # full batch: one batch
        expected = np.sort(getattr(dm, index))
        assert row.tolist() == expected.tolist()
        np.testing.assert_array_equal(target[:, 0].numpy(), y[expected])  # labels, not scaled
        np.testing.assert_allclose(x.numpy(), (X[expected] - dm.mean_) / dm.std_, rtol=1e-6)
        assert dm.predict_rows.source == dm.predict_description
    assert _datamodule(test_fraction=0.2).predict_description == (
        "the held-out test split: 10 of the 50 rows, in table order")
    assert _datamodule(val_fraction=0.0).predict_description.startswith("the training split")


# ----------------------------------------------------------------------------- stratified splits


def test_default_split_is_the_plain_seeded_permutation():
    """stratify=False (the default) gives the split of earlier versions: configs keep theirs."""
    order = np.random.default_rng(7).permutation(50)
    X, y = _table()
    dm = TabularDataModule(X, y, val_fraction=0.2, test_fraction=0.2, seed=7)
    for got, expected in ((dm.val_indices, order[:10]), (dm.test_indices, order[10:20]),
                          (dm.train_indices, order[20:])):
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(10, 400), p=st.floats(0.05, 0.95), val=st.floats(0.05, 0.4),
       test=st.floats(0.0, 0.4), seed=st.integers(0, 2**32 - 1))
def test_stratified_splits_keep_each_class_share(m, p, val, test, seed):
    y = (np.random.default_rng(seed).random(m) < p).astype(float)
    parts = split_indices(m, val, test, seed, labels=y)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(m))
    assert [len(part) for part in parts[1:]] == [round(m * val), round(m * test)]
    for part in parts:  # each class within one example of its share of the split
        assert abs(y[part].sum() - len(part) * y.sum() / m) <= 1.0


def test_stratified_breast_cancer_counts():
    from torchnn.data import BreastCancerDataModule

    dm = BreastCancerDataModule(val_fraction=0.2, test_fraction=0.2, stratify=True)
    X, y = dm.full_train_tensors()
    benign = [float(dm.val_dataset.tensors[1].sum()), float(dm.test_dataset.tensors[1].sum())]
    # 357 of 569 benign: 114 * 357 / 569 = 71.5 per held-out split, 341 * 357 / 569 = 213.9
    assert all(b in (71.0, 72.0) for b in benign) and float(y.sum()) in (213.0, 214.0)
    plain = BreastCancerDataModule(val_fraction=0.2, test_fraction=0.2)
    assert not np.array_equal(plain.val_indices, dm.val_indices)


def test_stratify_needs_a_classification_task():
    X, y = _table()
    with pytest.raises(ValueError, match="stratify needs task='binary'.*got task='regression'"):
        TabularDataModule(X, X[:, 0], task="regression", stratify=True)


# ----------------------------------------------------------------------------- standardisation


def test_standardisation_uses_training_statistics_only():
    dm = _datamodule(test_fraction=0.2)
    X_train, _ = dm.full_train_tensors()
    torch.testing.assert_close(X_train.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(X_train.std(0, unbiased=False), torch.ones(3), atol=1e-5, rtol=0)
    X_val = dm.val_dataset.tensors[0]
    assert X_val.mean(0).abs().max() > 1e-3  # fitted on train, not refitted on val
    raw_train = _table()[0][split_indices(50, 0.2, 0.2, seed=0)[0]]
    np.testing.assert_allclose(dm.mean_, raw_train.mean(0))
    np.testing.assert_allclose(dm.std_, raw_train.std(0))


def test_constant_feature_gets_unit_scale():
    X, y = _table()
    X[:, 1] = 7.0
    dm = TabularDataModule(X, y)
    dm.setup()
    assert dm.std_[1] == 1.0
    assert torch.all(dm.train_dataset.tensors[0][:, 1] == 0.0)


def test_standardize_false_keeps_raw_values():
    dm = _datamodule(standardize=False)
    np.testing.assert_array_equal(dm.mean_, 0.0)
    np.testing.assert_array_equal(dm.std_, 1.0)


def test_transform_features_matches_training_split():
    X, y = _table()
    dm = TabularDataModule(X, y, val_fraction=0.0)
    X_train = dm.full_train_tensors()[0]
    torch.testing.assert_close(dm.transform_features(X[dm.train_indices]), X_train)


def test_regression_target_is_standardised_and_mapped_back():
    X, _ = _table()
    y = 100.0 + 20.0 * X[:, 0]
    dm = TabularDataModule(X, y, task="regression", val_fraction=0.0)
    _, y_train = dm.full_train_tensors()
    assert abs(float(y_train.mean())) < 1e-5 and abs(float(y_train.std(unbiased=False)) - 1) < 1e-5
    back = dm.inverse_transform_target(y_train.double())
    np.testing.assert_allclose(back[:, 0].numpy(), y[dm.train_indices], rtol=1e-5)


def test_binary_target_is_never_standardised():
    dm = _datamodule(standardize_target=True)
    assert set(dm.full_train_tensors()[1].unique().tolist()) <= {0.0, 1.0}


# ----------------------------------------------------------------------------- loaders


def test_full_batch_loader_yields_the_whole_split_once_in_order():
    dm = _datamodule()
    for loader, dataset in ((dm.train_dataloader(), dm.train_dataset),
                            (dm.val_dataloader(), dm.val_dataset)):
        batches = list(loader)
        assert len(batches) == 1
        x, y = batches[0]
        assert torch.equal(x, dataset.tensors[0]) and torch.equal(y, dataset.tensors[1])
        assert x.dtype == y.dtype == torch.float32 and y.shape == (len(dataset), 1)


def test_mini_batch_shapes_and_seeded_shuffle():
    dm = _datamodule(batch_size=16)
    batches = list(dm.train_dataloader())
    assert [len(x) for x, _ in batches] == [16, 16, 8]
    assert all(x.shape[1] == 3 and y.shape[1] == 1 for x, y in batches)
    again = list(_datamodule(batch_size=16).train_dataloader())
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again, strict=True))
    assert not torch.equal(torch.cat([x for x, _ in batches]), dm.train_dataset.tensors[0])
    assert [len(x) for x, _ in dm.val_dataloader()] == [10]


# ----------------------------------------------------------------------------- input checks


def test_num_features_before_setup():
    X, y = _table(n_x=5)
    dm = TabularDataModule(X, y)
    assert dm.num_features == 5 and dm.train_dataset is None


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["X", "y"])
def test_non_finite_values_are_rejected(bad, where):
    X, y = _table()
    (X if where == "X" else y)[4] = bad
    with pytest.raises(ValueError, match=rf"{where} contains a non-finite value .* index \(4"):
        TabularDataModule(X, y, task="regression")


@pytest.mark.parametrize(
    "X,y,match",
    [
        (np.zeros((0, 2)), np.zeros(0), "data is empty"),
        (np.zeros((3, 2)), np.zeros(4), "3 rows but y has 4"),
        (np.zeros(3), np.zeros(3), r"X must be 2-D .* got shape \(3,\)"),
        (np.zeros((3, 2)), np.array([0.0, 2.0, 1.0]), "got label 2.0"),
    ],
)
def test_bad_arrays_are_rejected(X, y, match):
    with pytest.raises(ValueError, match=match):
        TabularDataModule(X, y, task="binary")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"task": "ordinal"}, "task must be one of .* got 'ordinal'"),
        ({"val_fraction": 1.0}, r"val_fraction must be in \[0, 1\), got 1.0"),
        ({"test_fraction": -0.1}, "test_fraction must be in"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "got 0.5 \\+ 0.5"),
        ({"batch_size": 0}, "batch_size must be .* got 0"),
        ({"num_workers": -1}, "num_workers must be >= 0, got -1"),
    ],
)
def test_bad_options_are_rejected(kwargs, match):
    X, y = _table()
    with pytest.raises(ValueError, match=match):
        TabularDataModule(X, y, **kwargs)


def test_tiny_table_that_leaves_no_training_data_is_rejected():
    with pytest.raises(ValueError, match="leave no training data"):
        TabularDataModule(np.zeros((2, 1)), np.zeros(2), val_fraction=0.5, test_fraction=0.3)
