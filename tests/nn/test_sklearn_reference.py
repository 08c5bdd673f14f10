"""Gradient descent against scikit-learn's multi-layer perceptron: a backprop we did not write.

``MLPClassifier`` / ``MLPRegressor`` with ``solver="sgd"``, the whole set as one batch, no
momentum, no L2 penalty (``alpha=0``) and no shuffling run Algorithm 1.1: their own forward
pass, log-loss (softmax for C > 2 classes, logistic for two) or squared error, and backward
pass. Starting both from the same weights, ``gradient_descent`` must end at scikit-learn's
weights. scikit-learn's squared error is half the mean square (``mean((a - y)²) / 2``), so
torchnn, whose J is the mean square, takes half its learning rate for the same steps.
"""

import os
import shutil
import warnings

import numpy as np
import pytest
import torch

import torchnn
from torchnn.data import make_spiral

neural_network = pytest.importorskip("sklearn.neural_network")
datasets = pytest.importorskip("sklearn.datasets")
ENGINES = ["torch", pytest.param("compiled", marks=pytest.mark.skipif(
    shutil.which(os.environ.get("CC") or "cc") is None, reason="no C compiler"))]
SK_ACTIVATION = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic", "identity": "identity"}


def _spiral():
    x, y = make_spiral()
    return np.asarray(x, dtype=np.float64), np.asarray(y).astype(np.int64)


def _moons():
    return datasets.make_moons(n_samples=200, noise=0.2, random_state=0)


def _diabetes():
    x, y = datasets.load_diabetes(return_X_y=True)
    return (x - x.mean(0)) / x.std(0), (y - y.mean()) / y.std()


CASES = {  # name: (data, hidden sizes, g, output, scikit-learn's lr, iterations)
    "softmax, 3 classes": (_spiral, (100,), "relu", "softmax", 0.5, 200),
    "sigmoid output, tanh": (_moons, (8, 8), "tanh", "sigmoid", 0.3, 300),
    "sigmoid output, sigmoid hidden": (_moons, (6,), "sigmoid", "sigmoid", 1.0, 300),
    "regression": (_diabetes, (16,), "relu", "identity", 0.02, 300),
}


def _estimator(hidden, g, output, lr, iterations):
    cls = neural_network.MLPRegressor if output == "identity" else neural_network.MLPClassifier
    return cls(hidden_layer_sizes=hidden, activation=SK_ACTIVATION[g], solver="sgd", alpha=0.0,
               batch_size=10**9, learning_rate_init=lr, momentum=0.0, nesterovs_momentum=False,
               shuffle=False, max_iter=iterations, tol=0.0, n_iter_no_change=10**9,
               random_state=0, warm_start=True)


def _fit(est, x, y, iterations):
    est.max_iter = iterations
    with warnings.catch_warnings():  # it warns that max_iter ended the fit: as asked
        warnings.simplefilter("ignore")
        est.fit(x, y)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_gradient_descent_ends_at_sklearns_weights(case, engine):
    data, hidden, g, output, lr, iterations = CASES[case]
    x, y = data()
    est = _estimator(hidden, g, output, lr, iterations)
    _fit(est, x, y, 1)  # builds the model (one step), then both continue from its weights
    n_out = est.coefs_[-1].shape[1]
    net = torchnn.DeepNetwork([x.shape[1], *hidden, n_out], g, output, dtype=torch.float64)
    with torch.no_grad():
        for layer, w, b in zip(net.layers, est.coefs_, est.intercepts_):
            layer.weight.copy_(torch.as_tensor(w.T))  # scikit-learn keeps Wᵀ: (n[l-1], n[l])
            layer.bias.copy_(torch.as_tensor(b))
    target = (torch.as_tensor(y) if output == "softmax"  # class indices, else (m, 1) floats
              else torch.as_tensor(y, dtype=torch.float64).reshape(-1, 1))

    _fit(est, x, y, iterations)
    ours_lr = lr / 2 if output == "identity" else lr  # J = mean square, twice scikit-learn's
    costs = net.gradient_descent(torch.as_tensor(x), target, ours_lr, iterations, engine)

    for layer, w, b in zip(net.layers, est.coefs_, est.intercepts_):
        np.testing.assert_allclose(layer.weight.detach().numpy(), w.T, rtol=0, atol=1e-11)
        np.testing.assert_allclose(layer.bias.detach().numpy(), b, rtol=0, atol=1e-11)
    theirs = np.asarray(est.loss_curve_[1:])  # J before each of the updates, as ours
    np.testing.assert_allclose(costs.numpy() / (2 if output == "identity" else 1), theirs,
                               rtol=1e-11)
