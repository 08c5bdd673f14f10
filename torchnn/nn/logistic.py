"""Chapter 1's logistic regression: a ``DeepNetwork`` with no hidden layer."""

from __future__ import annotations

import torch
from torch import nn

from torchnn.nn import interchange
from torchnn.nn.network import DeepNetwork

__all__ = ["LogisticRegression"]


class LogisticRegression(DeepNetwork):
    r"""Chapter 1's single-neuron network: :math:`\hat y = \sigma(w^T x + b)`.

    The weight is ``layers[0].weight`` of shape (1, n_x) (the seed's wᵀ) and the bias
    ``layers[0].bias`` of shape (1,). Trained by ``backprop`` it runs Algorithm 1.3.

    Args:
        n_x: the number of input features.
        init: weight initialisation (see ``DeepNetwork``); ``"zeros"`` is fine here, since a
            single unit has no symmetry to break.
        graph: as ``DeepNetwork``'s (one node either way: the layer is the network).
    """

    def __init__(
        self, n_x: int, init: str = "small", init_scale: float = 0.01,
        generator: torch.Generator | None = None, device: torch.device | str | None = None,
        dtype: torch.dtype | None = None, graph: str = "network",
    ) -> None:
        super().__init__([n_x, 1], "identity", "sigmoid", init=init, init_scale=init_scale,
                         generator=generator, device=device, dtype=dtype, graph=graph)

    @classmethod
    def from_torch(cls, seq: nn.Sequential, **kwargs) -> LogisticRegression:
        """Build from ``nn.Sequential(nn.Linear(n_x, 1), nn.Sigmoid())``, copying w and b."""
        return interchange.logistic_from_torch(cls, seq, **kwargs)
