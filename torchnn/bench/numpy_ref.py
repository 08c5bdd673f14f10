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


# g(Z) (§2.2) and g'(Z) written from A = g(Z) (§2.3), each with the leaky slope s
_G = {"tanh": lambda z, s: np.tanh(z), "sigmoid": lambda z, s: _sigmoid(z),
      "relu": lambda z, s: np.maximum(z, 0.0), "leaky_relu": lambda z, s: np.where(z > 0, z, s * z),
      "identity": lambda z, s: z}
_G_PRIME = {"tanh": lambda a, s: 1.0 - a * a, "sigmoid": lambda a, s: a * (1.0 - a),
            "relu": lambda a, s: (a > 0).astype(a.dtype),
            "leaky_relu": lambda a, s: np.where(a > 0, 1.0, s), "identity": lambda a, s: 1.0}


class NumpyNetwork:
    """An L-layer network trained by batch gradient descent (Algorithm 1.1) in numpy.

    ``weights``: W^[l] of shape (n[l], n[l-1]); ``biases``: b^[l] of shape (n[l],); both copied
    to float64. ``activation``: the hidden g (``"tanh"``, ``"relu"``, ``"sigmoid"``,
    ``"leaky_relu"`` with ``negative_slope`` >= 0, ``"identity"``).
    """

    def __init__(self, weights, biases, activation: str = "tanh", negative_slope: float = 0.01):
        self.W = [np.array(w, dtype=np.float64) for w in weights]
        self.b = [np.array(b, dtype=np.float64).reshape(-1, 1) for b in biases]
        self.activation, self.slope = activation, negative_slope

    def step(self, X: np.ndarray, Y: np.ndarray, lr: float) -> float:
        """One iteration of Algorithm 1.1 with eqs. 2.3-2.4, 2.9-2.12; returns J before it."""
        m, L = X.shape[1], len(self.W)
        cache = [X]
        for l in range(L):
            Z = self.W[l] @ cache[-1] + self.b[l]  # (2.3)
            cache.append(_sigmoid(Z) if l == L - 1 else _G[self.activation](Z, self.slope))
        AL = cache[-1]
        # J = -(1/m) Σ [y log a + (1 - y) log(1 - a)] (§1.2), clipped away from log(0)
        J = -np.mean(Y * np.log(AL + 1e-15) + (1 - Y) * np.log(1 - AL + 1e-15))
        dZ = AL - Y  # (2.9)
        for l in range(L, 0, -1):
            A_prev = cache[l - 1]
            dW = (dZ @ A_prev.T) / m  # (2.10)
            db = dZ.sum(axis=1, keepdims=True) / m  # (2.11)
            if l > 1:
                g_prime = _G_PRIME[self.activation](A_prev, self.slope)
                dZ = (self.W[l - 1].T @ dZ) * g_prime  # (2.12)
            self.W[l - 1] -= lr * dW
            self.b[l - 1] -= lr * db
        return float(J)


def logreg_loop_step(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, lr: float):
    """Algorithm 1.2: J, dw, db summed in a Python loop over the m examples, then one update."""
    n, m = X.shape
    J, dw, db = 0.0, np.zeros(n), 0.0
    for i in range(m):
        x_i = X[:, i]
        a = _sigmoid(w @ x_i + b)
        J += -(Y[i] * np.log(a) + (1 - Y[i]) * np.log(1 - a))
        dz = a - Y[i]
        dw += x_i * dz
        db += dz
    return w - lr * dw / m, b - lr * db / m, J / m


def logreg_vectorised_step(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, lr: float):
    """Algorithm 1.3: Z = wᵀX + b, A = σ(Z), dZ = A - Y, dw = X dZᵀ / m, db = Σ dZ / m."""
    m = X.shape[1]
    A = _sigmoid(w @ X + b)
    J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ = A - Y
    return w - lr * (X @ dZ) / m, b - lr * dZ.sum() / m, J
