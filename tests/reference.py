"""An independent reference in the seed's own column notation (numpy, float64, no autograd).

Examples are *columns*: X has shape (n_x, m), Y shape (n[L], m), W^[l] shape (n[l], n[l-1]) and
b^[l] shape (n[l], 1), exactly as the seed writes them. Nothing here imports torchnn or torch;
the tests transpose torchnn's row batches to compare.

    forward(X, params, g)         eqs. 2.3-2.4 -> A^[L] and the caches
    cost(AL, Y)                   J = -(1/m) Σ [Y log A + (1 - Y) log(1 - A)]  (§1.2)
    backward(Y, params, caches)   eqs. 2.9-2.12 -> {"dW1": ..., "db1": ..., ...}
    logistic_regression_gd(...)   Algorithm 1.3, vectorised gradient descent
"""

from __future__ import annotations

import numpy as np

__all__ = ["G", "G_PRIME", "forward", "cost", "backward", "logistic_regression_gd"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^{-z})."""
    return 1.0 / (1.0 + np.exp(-z))


# g and g'(z) of §2.3, written from z (not from the output: independent of torchnn's choice)
G = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(0.0, z),
    "identity": lambda z: z,
}
G_PRIME = {
    "sigmoid": lambda z: sigmoid(z) * (1 - sigmoid(z)),
    "tanh": lambda z: 1 - np.tanh(z) ** 2,
    "relu": lambda z: (z > 0).astype(z.dtype),
    "identity": lambda z: np.ones_like(z),
}


def forward(X: np.ndarray, params: dict[str, np.ndarray], hidden: str):
    """A^[0] = X; Z^[l] = W^[l] A^[l-1] + b^[l] (2.3); A^[l] = g^[l](Z^[l]) (2.4), σ at layer L."""
    L = len(params) // 2
    A = X
    caches = [(None, X)]  # (Z^[l], A^[l]) for l = 0..L
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]  # (n[l], n[l-1]) @ (n[l-1], m) + (n[l], 1)
        A = sigmoid(Z) if l == L else G[hidden](Z)
        caches.append((Z, A))
    return A, caches


def cost(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = (1/m) Σ L(a, y), L = -y log a - (1 - y) log(1 - a) (§1.2), averaged over all entries."""
    return float(-np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))


def backward(Y: np.ndarray, params: dict[str, np.ndarray], caches, hidden: str):
    """Eqs. 2.9-2.12 for a sigmoid output and the cross-entropy cost.

    NOTE: with n[L] > 1 output units the cost averages over all n[L] m entries, so 1/m becomes
    1/(n[L] m); for the seed's single output unit the two agree.
    """
    L = len(params) // 2
    m = Y.size
    grads = {}
    dZ = caches[L][1] - Y  # dZ^[L] = A^[L] - Y  (2.9)
    for l in range(L, 0, -1):
        A_prev = caches[l - 1][1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m  # (2.10)
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m  # (2.11)
        if l > 1:
            dZ = (params[f"W{l}"].T @ dZ) * G_PRIME[hidden](caches[l - 1][0])  # (2.12)
    return grads


def logistic_regression_gd(
    X: np.ndarray, Y: np.ndarray, w: np.ndarray, b: float, alpha: float, iterations: int
):
    """Algorithm 1.3; X (n_x, m), Y (1, m), w (n_x, 1). Returns (w, b, [J before each step])."""
    m = X.shape[1]
    costs = []
    for _ in range(iterations):
        Z = w.T @ X + b  # (1, m)
        A = sigmoid(Z)
        costs.append(cost(A, Y))
        dZ = A - Y
        dw = X @ dZ.T / m  # (n_x, 1)
        db = np.sum(dZ) / m
        w = w - alpha * dw
        b = b - alpha * db
    return w, b, costs
