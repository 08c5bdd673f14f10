"""torchnn: PyTorch modules whose backward passes are written by hand from the seed's equations.

Public API::

    torchnn.functional   sigmoid, tanh, relu, leaky_relu, dense, binary_cross_entropy_with_logits,
                         mse_loss (each a custom autograd Function)
    torchnn.Dense, Sigmoid, Tanh, ReLU, LeakyReLU, Identity, DeepNetwork, LogisticRegression
    torchnn.init         small_random_, he_normal_, xavier_normal_, zeros_
"""

from torchnn import functional
from torchnn.nn import (
    DeepNetwork,
    Dense,
    Identity,
    LeakyReLU,
    LogisticRegression,
    ReLU,
    Sigmoid,
    Tanh,
    init,
)

__version__ = "0.1.0"

__all__ = [
    "Dense",
    "DeepNetwork",
    "Identity",
    "LeakyReLU",
    "LogisticRegression",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "functional",
    "init",
    "__version__",
]
