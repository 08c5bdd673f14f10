"""The seed's planar "flower" and the moons and circles sets."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from torchnn.data import CirclesDataModule, FlowerDataModule, MoonsDataModule, make_flower


def test_flower_shape_classes_and_balance():
    X, y = make_flower()
    assert X.shape == (400, 2) and X.dtype == np.float64 and y.shape == (400,)
    assert np.bincount(y.astype(int)).tolist() == [200, 200]
    assert (y[:200] == 0).all() and (y[200:] == 1).all()  # class j fills rows N j .. N (j + 1)


def test_flower_draws_the_course_points_and_leaves_numpy_global_state_alone():
    """The course's load_planar_dataset(): np.random.seed(1), then t and r of each class."""
    np.random.seed(1)
    N, X, Y = 200, np.zeros((400, 2)), np.zeros(400)
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = 4 * np.sin(4 * t) + np.random.randn(N) * 0.2
        X[ix], Y[ix] = np.c_[r * np.sin(t), r * np.cos(t)], j
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    here, y = make_flower()
    assert np.random.rand() == expected_next  # the global generator did not move
    np.testing.assert_array_equal(here, X)
    np.testing.assert_array_equal(y, Y)


def test_flower_lies_on_the_rose_curve_r_equals_4_sin_4t():
    X, y = make_flower(noise=0.0)
    t = np.concatenate([np.linspace(0, 3.12, 200), np.linspace(3.12, 6.24, 200)])
    r = 4 * np.sin(4 * t)
    np.testing.assert_allclose(X, np.c_[r * np.sin(t), r * np.cos(t)], atol=1e-12)


def test_flower_radii_are_bounded_by_the_maximum_ray_plus_noise():
    radius = np.linalg.norm(make_flower()[0], axis=1)
    assert radius.max() <= 4 + 5 * 0.2  # a = 4, noise sd 0.2 on r: 5 sigma over 400 draws
    assert radius.max() > 3.5  # the petals reach out towards the maximum ray


def test_flower_is_seeded():
    np.testing.assert_array_equal(make_flower(seed=5)[0], make_flower(seed=5)[0])
    assert not np.array_equal(make_flower(seed=5)[0], make_flower(seed=6)[0])


def test_flower_is_not_linearly_separable():
    """The seed's claim: logistic regression fits the flower at about chance (47% there)."""
    X, y = make_flower()
    accuracy = LogisticRegression().fit(X, y).score(X, y)
    assert 0.35 < accuracy < 0.65


@pytest.mark.parametrize("kwargs,match", [({"n_per_class": 0}, "n_per_class must be >= 1, got 0"),
                                          ({"noise": -1.0}, "noise must be >= 0, got -1.0")])
def test_flower_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_flower(**kwargs)


def test_flower_datamodule_all_points_for_training():
    dm = FlowerDataModule(val_fraction=0.0)
    assert dm.num_features == 2 and dm.task == "binary"
    X, y = dm.full_train_tensors()
    assert X.shape == (400, 2) and y.shape == (400, 1) and float(y.sum()) == 200.0
    assert dm.val_dataset is dm.train_dataset


def test_flower_datamodule_default_split():
    dm = FlowerDataModule()
    dm.setup()
    assert (len(dm.train_dataset), len(dm.val_dataset), dm.test_dataset) == (320, 80, None)


@pytest.mark.parametrize("cls", [MoonsDataModule, CirclesDataModule])
def test_moons_and_circles(cls):
    dm = cls(n_samples=100, noise=0.1, seed=2, val_fraction=0.2, test_fraction=0.1)
    dm.setup()
    assert dm.num_features == 2 and dm.task == "binary"
    sizes = [len(d) for d in (dm.train_dataset, dm.val_dataset, dm.test_dataset)]
    assert sizes == [70, 20, 10]
    assert set(dm.train_dataset.tensors[1].unique().tolist()) == {0.0, 1.0}
    again = cls(n_samples=100, noise=0.1, seed=2, val_fraction=0.2, test_fraction=0.1)
    assert torch.equal(again.full_train_tensors()[0], dm.full_train_tensors()[0])
    other = cls(n_samples=100, noise=0.1, seed=3, val_fraction=0.2, test_fraction=0.1)
    assert not torch.equal(other.full_train_tensors()[0], dm.full_train_tensors()[0])
