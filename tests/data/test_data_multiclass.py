"""The multi-class data sets (digits, iris, the K-class spiral) and task="multiclass" tables:
class-index targets, class names, stratified splits, fitted state."""

import numpy as np
import pytest
import torch

from torchnn.data import (
    DATASETS,
    DigitsDataModule,
    IrisDataModule,
    SpiralDataModule,
    TabularDataModule,
    make_spiral,
)

SETS = [(DigitsDataModule, 64, 10, 1797), (IrisDataModule, 4, 3, 150),
        (SpiralDataModule, 2, 3, 300)]


@pytest.mark.parametrize("cls, n_x, c, m", SETS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_sets_have_class_index_targets(cls, n_x, c, m):
    dm = cls(batch_size=None)
    dm.setup()
    assert (dm.num_features, dm.num_classes, dm.num_outputs, dm.num_examples) == (n_x, c, c, m)
    assert dm.task == "multiclass" and len(dm.classes) == c
    x, y = next(iter(dm.train_dataloader()))
    assert x.dtype == torch.float32 and x.shape[1] == n_x
    assert y.dtype == torch.int64 and y.shape == (x.shape[0],)  # what cross_entropy takes
    assert set(y.tolist()) == set(range(c))
    X, Y = dm.full_train_tensors()
    assert Y.shape == (X.shape[0],) and Y.dtype == torch.int64


def test_registry_names_the_multiclass_sets():
    assert DATASETS["digits"] is DigitsDataModule
    assert DATASETS["iris"] is IrisDataModule
    assert DATASETS["spiral"] is SpiralDataModule


def test_iris_class_names_and_stratified_validation():
    dm = IrisDataModule()
    dm.setup()
    assert dm.classes == ["setosa", "versicolor", "virginica"]
    assert dm.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    _, y = dm.val_dataset.tensors
    assert torch.bincount(y).tolist() == [10, 10, 10]  # stratified: 30 rows, 10 of each


def test_spiral_is_seeded_and_k_armed():
    X, y = make_spiral(n_classes=5, n_per_class=40, seed=3)
    X2, y2 = make_spiral(n_classes=5, n_per_class=40, seed=3)
    assert X.shape == (200, 2) and np.array_equal(X, X2) and np.array_equal(y, y2)
    assert np.bincount(y.astype(int)).tolist() == [40] * 5
    assert not np.array_equal(X, make_spiral(n_classes=5, n_per_class=40, seed=4)[0])
    assert np.abs(X).max() <= 1.0 + 1e-12  # r in [0, 1]
    with pytest.raises(ValueError, match="n_classes >= 2"):
        make_spiral(n_classes=1)


def test_multiclass_table_names_classes_by_label():
    X, y = np.eye(6), np.array([0, 1, 2, 0, 1, 2])
    dm = TabularDataModule(X, y, task="multiclass", val_fraction=0.0)
    assert dm.classes == ["0", "1", "2"] and dm.num_classes == 3
    with pytest.raises(ValueError, match="integer class labels 0, 1, ..., C-1, got label 0.5"):
        TabularDataModule(X, y + 0.5, task="multiclass")
    with pytest.raises(ValueError, match="label 2 has no name in classes"):
        TabularDataModule(X, y, task="multiclass", classes=["a", "b"])


def test_fitted_state_keeps_the_classes():
    dm = IrisDataModule()
    state = dm.state_dict()
    assert state["classes"] == ["setosa", "versicolor", "virginica"]
    restored = TabularDataModule.from_fitted_state(state)
    assert restored.classes == dm.classes and restored.num_outputs == 3


def test_binary_and_regression_keep_their_shapes():
    dm = TabularDataModule(np.eye(4), np.array([0, 1, 0, 1]), task="binary", val_fraction=0.0)
    dm.setup()
    assert dm.classes is None and dm.num_classes == 2 and dm.num_outputs == 1
    assert dm.train_dataset.tensors[1].shape == (4, 1)
