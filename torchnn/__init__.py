"""torchnn: PyTorch modules whose backward passes are written by hand from the seed's equations.

Public API::

    torchnn.functional   sigmoid, tanh, relu, leaky_relu, dense, binary_cross_entropy_with_logits,
                         mse_loss (each a custom autograd Function)
    torchnn.Dense, Sigmoid, Tanh, ReLU, LeakyReLU, Identity, DeepNetwork, LogisticRegression
    torchnn.init         small_random_, he_normal_, xavier_normal_, zeros_
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# NOTE: the public names are imported on first use (PEP 562 ``__getattr__`` below), so that
# ``torchnn --version`` and ``import torchnn.cli`` do not load torch (about 2 s).
if TYPE_CHECKING:
    from torchnn import functional
    from torchnn.nn import (
        DeepNetwork,
        Dense,
        Identity,
        LeakyReLU,
        LogisticRegression,
        ReLU,
        Sigmoid,
        Softmax,
        Tanh,
        init,
    )

__version__ = "0.1.0"  # the one version source: pyproject.toml reads it (setuptools)

__all__ = [
    "Dense",
    "DeepNetwork",
    "Identity",
    "LeakyReLU",
    "LogisticRegression",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """``torchnn.functional``, ``torchnn.DeepNetwork``, ...: imported when first used."""
    if name == "functional":
        return importlib.import_module("torchnn.functional")
    if name in __all__:
        value = getattr(importlib.import_module("torchnn.nn"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'torchnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
