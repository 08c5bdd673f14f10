"""The softmax output module: a thin wrapper over ``torchnn.functional.softmax``."""

from __future__ import annotations

from torch import Tensor, nn

from torchnn import functional as F

__all__ = ["Softmax"]


class Softmax(nn.Module):
    r"""Applies :math:`a_c = e^{z_c} / \sum_j e^{z_j}` along ``dim``, with the derivative
    :math:`dz = a \odot (da - \sum_j a_j da_j)` (the output layer of a C-class network).

    Args:
        dim: the dimension of the classes (the last one: a batch is (m, C)).

    Shape:
        Input ``(*)``; output the same shape, each slice along ``dim`` summing to 1.

    Examples:
        >>> torchnn.Softmax()(torch.zeros(1, 4))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """

    name, torch_module = "softmax", nn.Softmax

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
