"""Breast cancer and diabetes, from the copies scikit-learn ships."""

import numpy as np
import torch

from torchnn.data import (
    BreastCancerDataModule,
    DiabetesDataModule,
    load_breast_cancer_arrays,
    load_diabetes_arrays,
)


def test_breast_cancer_arrays():
    X, y = load_breast_cancer_arrays()
    assert X.shape == (569, 30) and y.shape == (569,)
    assert np.bincount(y.astype(int)).tolist() == [212, 357]


def test_breast_cancer_datamodule():
    dm = BreastCancerDataModule(test_fraction=0.2, batch_size=64)
    assert dm.num_features == 30 and dm.task == "binary"
    X, y = dm.full_train_tensors()
    assert X.shape == (341, 30) and y.shape == (341, 1)
    assert len(dm.val_dataset) == len(dm.test_dataset) == 114
    torch.testing.assert_close(X.std(0, unbiased=False), torch.ones(30), atol=1e-4, rtol=0)


def test_diabetes_arrays():
    X, y = load_diabetes_arrays()
    assert X.shape == (442, 10) and y.shape == (442,) and 25 <= y.min() < y.max() <= 346


def test_diabetes_target_scale_maps_predictions_back():
    dm = DiabetesDataModule()
    assert dm.num_features == 10 and dm.task == "regression"
    _, y = dm.full_train_tensors()
    y_raw = load_diabetes_arrays()[1][dm.train_indices]
    assert abs(dm.target_mean_ - y_raw.mean()) < 1e-9 and abs(dm.target_std_ - y_raw.std()) < 1e-9
    np.testing.assert_allclose(dm.inverse_transform_target(y)[:, 0].numpy(), y_raw, rtol=1e-5)


def test_diabetes_raw_target():
    dm = DiabetesDataModule(standardize_target=False)
    _, y = dm.full_train_tensors()
    assert (dm.target_mean_, dm.target_std_) == (0.0, 1.0) and float(y.max()) > 300
