"""torchnn.nn: modules assembled from the hand-derived Functions."""

from torchnn._validate import validate_data
from torchnn.nn import init
from torchnn.nn.activation import (
    ACTIVATIONS,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Tanh,
    get_activation,
)
from torchnn.nn.dense import Dense
from torchnn.nn.logistic import LogisticRegression
from torchnn.nn.network import DeepNetwork
from torchnn.nn.softmax import Softmax

__all__ = [
    "ACTIVATIONS",
    "Dense",
    "DeepNetwork",
    "Identity",
    "LeakyReLU",
    "LogisticRegression",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "get_activation",
    "init",
    "validate_data",
]
