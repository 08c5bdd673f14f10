"""The seed's vectorised algorithm in plain numpy float64, in its own column notation.

``X`` is (n_x, m), ``W^[l]`` is (n[l], n[l-1]), ``b^[l]`` is (n[l], 1): exactly eqs. 2.3-2.4 and
2.9-2.12 as the course writes them, the reference every torch variant is timed against. Also
chapter 1's logistic regression as Algorithm 1.2 (a loop over examples) and 1.3 (vectorised).
"""

from __future__ import annotations

import numpy as np

__all__ = ["NumpyNetwork", "logreg_loop_step", "logreg_vectorised_step"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


_G = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "sigmoid": _sigmoid,
      "leaky_relu": None, "identity": lambda z: z}


class NumpyNetwork:
    """An L-layer network trained by batch gradient descent (Algorithm 1.1) in numpy.

    Args:
        weights: W^[l] of shape (n[l], n[l-1]) for l = 1..L (copied to float64).
        biases: b^[l] of shape (n[l],) (stored as (n[l], 1) columns).
        activation: the hidden g: ``"tanh"``, ``"relu"``, ``"sigmoid"``, ``"leaky_relu"``.
        negative_slope: the leaky ReLU slope (the seed's 0.01).
    """

    def __init__(self, weights, biases, activation: str = "tanh", negative_slope: float = 0.01):
        self.W = [np.array(w, dtype=np.float64) for w in weights]
        self.b = [np.array(b, dtype=np.float64).reshape(-1, 1) for b in biases]
        self.activation = activation
        self.slope = negative_slope
        self.cache: list[np.ndarray] = []

    def _g(self, z: np.ndarray) -> np.ndarray:
        if self.activation == "leaky_relu":
            return np.where(z > 0, z, self.slope * z)
        return _G[self.activation](z)

    def _g_prime_from_a(self, a: np.ndarray) -> np.ndarray:
        """g'(Z) written from A = g(Z) (§2.3); valid for a slope >= 0."""
        if self.activation == "tanh":
            return 1.0 - a * a
        if self.activation == "sigmoid":
            return a * (1.0 - a)
        if self.activation == "relu":
            return (a > 0).astype(a.dtype)
        if self.activation == "leaky_relu":
            return np.where(a > 0, 1.0, self.slope)
        return np.ones_like(a)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Z^[l] = W^[l] A^[l-1] + b^[l] (2.3), A^[l] = g(Z^[l]) (2.4); keeps each A^[l]."""
        A = X
        self.cache = [X]
        for l, (W, b) in enumerate(zip(self.W, self.b), start=1):
            Z = W @ A + b
            A = _sigmoid(Z) if l == len(self.W) else self._g(Z)
            self.cache.append(A)
        return A

    def step(self, X: np.ndarray, Y: np.ndarray, lr: float) -> float:
        """One iteration of Algorithm 1.1 with eqs. 2.9-2.12; returns J before the update."""
        m = X.shape[1]
        AL = self.forward(X)
        # J = -(1/m) Σ [y log a + (1 - y) log(1 - a)] (§1.2), clipped away from log(0)
        eps = 1e-15
        J = -np.mean(Y * np.log(AL + eps) + (1 - Y) * np.log(1 - AL + eps))
        dZ = AL - Y  # (2.9)
        for l in range(len(self.W), 0, -1):
            A_prev = self.cache[l - 1]
            dW = (dZ @ A_prev.T) / m  # (2.10)
            db = dZ.sum(axis=1, keepdims=True) / m  # (2.11)
            if l > 1:
                dZ = (self.W[l - 1].T @ dZ) * self._g_prime_from_a(A_prev)  # (2.12)
            self.W[l - 1] -= lr * dW
            self.b[l - 1] -= lr * db
        return float(J)

    def saved_arrays(self) -> list[np.ndarray]:
        """The arrays the backward reads besides X and the parameters: A^[1..L]."""
        return self.cache[1:]


def logreg_loop_step(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, lr: float):
    """Algorithm 1.2: J, dw, db summed in a Python loop over the m examples, then one update."""
    n, m = X.shape
    J, dw, db = 0.0, np.zeros(n), 0.0
    for i in range(m):
        x_i = X[:, i]
        z = w @ x_i + b
        a = 1.0 / (1.0 + np.exp(-z))
        J += -(Y[i] * np.log(a) + (1 - Y[i]) * np.log(1 - a))
        dz = a - Y[i]
        dw += x_i * dz
        db += dz
    J, dw, db = J / m, dw / m, db / m
    return w - lr * dw, b - lr * db, J


def logreg_vectorised_step(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, lr: float):
    """Algorithm 1.3: Z = wᵀX + b, A = σ(Z), dZ = A - Y, dw = X dZᵀ / m, db = Σ dZ / m."""
    m = X.shape[1]
    A = 1.0 / (1.0 + np.exp(-(w @ X + b)))
    J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ = A - Y
    return w - lr * (X @ dZ) / m, b - lr * dZ.sum() / m, J
