"""Activation modules: thin wrappers over ``torchnn.functional``, one per activation record."""

from __future__ import annotations

from torch import Tensor, nn

from torchnn import functional as F
from torchnn.functional.activations import ACTIVATIONS, get_activation
from torchnn.nn.dropin import refuse_torchscript

__all__ = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Identity", "ACTIVATIONS", "get_activation",
           "activation_module", "torch_activation", "module_class", "MODULES"]


class Sigmoid(nn.Module):
    r"""Applies :math:`a = \sigma(z) = 1 / (1 + e^{-z})` with derivative :math:`a(1 - a)`.

    Shape:
        Input ``(*)``; output the same shape.

    Examples:
        >>> torchnn.Sigmoid()(torch.zeros(2))
        tensor([0.5000, 0.5000])
    """

    name, torch_module = "sigmoid", nn.Sigmoid

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(nn.Module):
    r"""Applies :math:`a = \tanh(z)` with derivative :math:`1 - a^2`. Shape: ``(*)`` -> ``(*)``."""

    name, torch_module = "tanh", nn.Tanh

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class ReLU(nn.Module):
    r"""Applies :math:`a = \max(0, z)` with derivative :math:`1[a > 0]`. Shape: ``(*)``.

    Args:
        inplace: write a over the input and return it, as ``torch.nn.ReLU(inplace=True)``.
    """

    name, torch_module = "relu", nn.ReLU

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(nn.Module):
    r"""Applies :math:`a = \max(\text{slope}\, z, z)` with derivative 1 or slope.

    Args:
        negative_slope: the slope for z < 0 (the seed's 0.01). Any real value is supported.
        inplace: write a over the input, as ``torch.nn.LeakyReLU(inplace=True)``; with a
            negative slope backward then raises, as PyTorch's does.
    """

    name, torch_module = "leaky_relu", nn.LeakyReLU

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Identity(nn.Module):
    """g(z) = z, the linear activation (the seed's "Why activation functions")."""

    name, torch_module = "identity", nn.Identity

    def forward(self, input: Tensor) -> Tensor:
        return input


MODULES = (Sigmoid, Tanh, ReLU, LeakyReLU, Identity)  # one per record in ACTIVATIONS
for _cls in MODULES:  # torch.jit.script: a clear error up front, not one from inside
    _cls.__prepare_scriptable__ = refuse_torchscript  # type: ignore[union-attr]


def module_class(name: str) -> type[nn.Module]:
    """The torchnn module class of the activation ``name``."""
    get_activation(name)  # a clear error for an unknown name
    return next(cls for cls in MODULES if cls.name == name)


def activation_module(name: str, negative_slope: float = 0.01) -> nn.Module:
    """The torchnn module of the activation ``name`` (the slope is leaky ReLU's)."""
    cls = module_class(name)
    return cls(negative_slope) if cls is LeakyReLU else cls()


def torch_activation(name: str, negative_slope: float = 0.01) -> nn.Module:
    """The ``torch.nn`` module equivalent to ``activation_module(name, negative_slope)``."""
    cls = module_class(name)
    return nn.LeakyReLU(negative_slope) if cls is LeakyReLU else cls.torch_module()  # type: ignore[attr-defined]
