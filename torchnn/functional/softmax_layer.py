"""The softmax output layer with its cost as one autograd Function (C classes).

    forward:   J = (1/m) Σ_i L(softmax(A_prev Wᵀ + b)_i, Y_i)   (eq. 2.3, §1.2 over C classes)
    backward:  dZ = (A - Y) / m                                (eq. 2.9), then eqs. 2.10-2.12

The C-class twin of ``layer.DenseCrossEntropyFunction``: the same ``output_grads`` /
``output_tangent`` with the ``"softmax"`` record of ``costs.OUTPUTS`` instead of the sigmoid's.
"""

from __future__ import annotations

import torch
from torch import Tensor

from torchnn.functional._autograd import call
from torchnn.functional.dense import check_dense_args, dense
from torchnn.functional.layer import dense_output_function
from torchnn.functional.softmax import check_class_target, cross_entropy

__all__ = ["DenseSoftmaxCrossEntropyFunction", "dense_softmax_cross_entropy",
           "check_output_target"]


DenseSoftmaxCrossEntropyFunction = dense_output_function(
    "softmax", "DenseSoftmaxCrossEntropyFunction: J = (1/m) Σ_i L(softmax(A_prev Wᵀ + b)_i, "
    "Y_i) (§1.2, C classes); dZ = (A - Y) / m (eq. 2.9), then eqs. 2.10-2.12; saves A_prev, W, "
    "b, Y (Z and A recomputed: the softmax output is never kept); dY = -log A / m for a "
    "probability target", __name__)


def check_output_target(input: Tensor, n_out: int, target: Tensor, where: str) -> Tensor:
    """A target for C = ``n_out`` classes of a batch ``input`` (m, n_in): class indices (m,) or
    probabilities (m, C), checked against a stand-in of the logits (no m × C tensor is made)."""
    logits = torch.empty((), dtype=input.dtype, device=input.device).expand(
        *input.shape[:-1], n_out)
    return check_class_target(logits, target, where)


def dense_softmax_cross_entropy(
    input: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor
) -> Tensor:
    """J of a C-class output layer: the mean categorical cross-entropy of
    softmax(A_prev Wᵀ + b) against Y.

    The same value and gradients as ``cross_entropy(dense(input, weight, bias), target)`` (and
    ``torch.nn.functional``'s), as one autograd Function: backward dZ = (A - Y) / m (eq. 2.9),
    then dW, db, dA_prev (eqs. 2.10-2.12). ``input`` (m, n_in); ``target``: class indices (m,)
    or probabilities (m, C). Under autocast it runs as the two Functions (the cost in float32).
    """
    check_dense_args(input, weight, bias, "dense_softmax_cross_entropy")
    target = check_output_target(input, weight.shape[0], target, "dense_softmax_cross_entropy")
    if torch.is_autocast_enabled(input.device.type):
        return cross_entropy(dense(input, weight, bias), target)
    return call(DenseSoftmaxCrossEntropyFunction, input, weight, bias, target)
