"""Whole training runs against the course's published output: a reference we did not write.

The course's initialisation exercise trains [2, 10, 5, 1] (ReLU, ReLU, sigmoid output) on
scikit-learn's ``make_circles`` (300 training points drawn after ``np.random.seed(1)``, 100 test
points after ``np.random.seed(2)``, noise 0.05) for 15,000 gradient-descent iterations with
α = 0.01, and prints J every 1,000 iterations and the accuracies. With He initialisation
(``np.random.seed(3)``, then ``randn(n[l], n[l-1]) * sqrt(2 / n[l-1])`` layer by layer, zero
biases) copies of its notebook agree to about 1e-15: the run never enters an oscillating phase
(unlike the flower at α = 1.2, see docs/course.md), so every print is compared.
"""

import math
import os
import shutil

import numpy as np
import pytest
import torch

import torchnn

sklearn_datasets = pytest.importorskip("sklearn.datasets")

DIMS = [2, 10, 5, 1]
HE_COSTS = (0.8830537463419761, 0.6879825919728063, 0.6751286264523371, 0.6526117768893807,
            0.6082958970572938, 0.5304944491717495, 0.4138645817071795, 0.3117803464844441,
            0.23696215330322562, 0.18597287209206836, 0.1501555628037181, 0.12325079292273546,
            0.09917746546525934, 0.08457055954024277, 0.07357895962677366)
ENGINES = ["torch", pytest.param("compiled", marks=pytest.mark.skipif(
    shutil.which(os.environ.get("CC") or "cc") is None, reason="no C compiler"))]


def _circles(dtype):
    """The course's ``load_dataset()``: the same draws from local generators."""
    out = []
    for n, seed in ((300, 1), (100, 2)):
        x, y = sklearn_datasets.make_circles(n_samples=n, noise=0.05,
                                             random_state=np.random.RandomState(seed))
        out += [torch.as_tensor(x, dtype=dtype), torch.as_tensor(y, dtype=dtype).unsqueeze(1)]
    return out


def _network(init: str, dtype) -> torchnn.DeepNetwork:
    """[2, 10, 5, 1] with the course's initial weights (its ``initialize_parameters_he``, or
    ``initialize_parameters_zeros``)."""
    net = torchnn.DeepNetwork(DIMS, "relu", "sigmoid", dtype=dtype)
    rng = np.random.RandomState(3)
    with torch.no_grad():
        for l, layer in enumerate(net.layers, start=1):
            w = rng.randn(DIMS[l], DIMS[l - 1]) * np.sqrt(2.0 / DIMS[l - 1])
            layer.weight.copy_(torch.as_tensor(w if init == "he" else 0 * w))
            layer.bias.zero_()
    return net


def _accuracy(net, x, y) -> float:
    return (net.predict(x) == y).double().mean().item()


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-12), (torch.float32, 1e-4)])
@pytest.mark.parametrize("engine", ENGINES)
def test_he_initialisation_run_prints_the_course_costs(engine, dtype, rtol):
    """J at iterations 0, 1,000, ..., 14,000 as printed, and the accuracies 0.9933 / 0.96."""
    x, y, x_test, y_test = _circles(dtype)
    net = _network("he", dtype)
    costs = net.gradient_descent(x, y, lr=0.01, iterations=15_000, engine=engine)
    np.testing.assert_allclose(costs[::1000].numpy(), HE_COSTS, rtol=rtol)
    assert _accuracy(net, x, y) == pytest.approx(298 / 300)  # "Accuracy: 0.9933333333333333"
    assert _accuracy(net, x_test, y_test) == pytest.approx(0.96)


@pytest.mark.parametrize("engine", ENGINES)
def test_zeros_initialisation_never_moves(engine):
    """The course's zero initialisation: every unit the same and every ReLU gradient 0, so the
    weights never move and J stays log 2 = 0.6931471805599453 for all 15,000 iterations (the
    output bias only collects the rounding of Σ (1/2 - y) / m over balanced classes); accuracy
    0.5 on both sets, as the course prints."""
    x, y, x_test, y_test = _circles(torch.float64)
    net = _network("zeros", torch.float64)
    costs = net.gradient_descent(x, y, lr=0.01, iterations=15_000, engine=engine)
    np.testing.assert_allclose(costs.numpy(), math.log(2), rtol=0, atol=1e-15)
    *frozen, b3 = net.parameters()
    assert not any(p.any() for p in frozen) and b3.abs().max() < 1e-14
    assert _accuracy(net, x, y) == 0.5 and _accuracy(net, x_test, y_test) == 0.5
