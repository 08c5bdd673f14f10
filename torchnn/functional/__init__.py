"""torchnn.functional: the only place in torchnn with derivative math.

Each function is backed by a ``torch.autograd.Function`` whose backward is the seed's formula,
read from one record per activation (``activations.ACTIVATIONS``) and per output layer
(``costs.OUTPUTS``; the C-class softmax output's formulas in ``softmax``).
"""

from torchnn.functional.activations import (
    ACTIVATIONS,
    Activation,
    InplaceActivationFunction,
    LeakyReLUFunction,
    ReLUFunction,
    SigmoidFunction,
    TanhFunction,
    identity,
    identity_backward,
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
)
from torchnn.functional.checkpoint import DenseActivationPairFunction, dense_activation_pair
from torchnn.functional.costs import (
    OUTPUTS,
    Output,
    SigmoidCrossEntropyFunction,
    SquaredErrorFunction,
    binary_cross_entropy_with_logits,
    cross_entropy_delta,
    cross_entropy_loss_from_logits,
    mse_loss,
    squared_error_delta,
)
from torchnn.functional.dense import (
    DenseFunction,
    dense,
    dense_forward,
    dense_grad_bias,
    dense_grad_input,
    dense_grad_weight,
    linear,
)
from torchnn.functional.layer import (
    DenseActivationFunction,
    DenseCrossEntropyFunction,
    dense_activation,
    dense_cross_entropy,
)
from torchnn.functional.network import (
    DenseNetworkFunction,
    DenseNetworkSoftmaxFunction,
    dense_network_cross_entropy,
)
from torchnn.functional.softmax import (
    CrossEntropyFunction,
    SoftmaxFunction,
    cross_entropy,
    softmax,
    softmax_cross_entropy_delta,
    softmax_grad,
)
from torchnn.functional.softmax_layer import (
    DenseSoftmaxCrossEntropyFunction,
    dense_softmax_cross_entropy,
)
from torchnn.functional.weighted import WeightedCrossEntropyFunction, WeightedSquaredErrorFunction

__all__ = [
    "ACTIVATIONS", "Activation", "OUTPUTS", "Output",
    "DenseActivationFunction", "DenseActivationPairFunction", "DenseCrossEntropyFunction",
    "DenseFunction", "DenseNetworkFunction", "LeakyReLUFunction", "ReLUFunction",
    "SigmoidCrossEntropyFunction", "SigmoidFunction", "SquaredErrorFunction", "TanhFunction",
    "binary_cross_entropy_with_logits", "cross_entropy_delta", "cross_entropy_loss_from_logits",
    "dense", "dense_activation", "dense_activation_pair", "dense_cross_entropy", "dense_forward",
    "dense_grad_bias", "dense_grad_input", "dense_grad_weight", "dense_network_cross_entropy",
    "identity", "identity_backward", "leaky_relu", "leaky_relu_backward", "linear", "mse_loss",
    "relu", "relu_backward", "sigmoid", "sigmoid_backward", "squared_error_delta", "tanh",
    "tanh_backward",
    # C classes: softmax output, categorical cross-entropy
    "CrossEntropyFunction", "DenseNetworkSoftmaxFunction", "DenseSoftmaxCrossEntropyFunction",
    "SoftmaxFunction", "cross_entropy", "dense_softmax_cross_entropy", "softmax",
    "softmax_cross_entropy_delta", "softmax_grad",
    # in place (relu_ / leaky_relu_) and weighted losses (weight, pos_weight)
    "InplaceActivationFunction", "WeightedCrossEntropyFunction", "WeightedSquaredErrorFunction",
]
