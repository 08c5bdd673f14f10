"""The parity helper itself: it must fail on a wrong value or a wrong derivative."""

import pytest
import torch

from tests.parity import TOLERANCES, assert_parity, noncontiguous, tolerances


class _WrongSigmoid(torch.autograd.Function):
    """σ with the derivative a(1 + a): the kind of slip the helper exists to catch."""

    @staticmethod
    def forward(z):
        return torch.sigmoid(z)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a * (1 + a)


class _ReLUOneAtZero(torch.autograd.Function):
    @staticmethod
    def forward(z):
        return torch.relu(z)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (z >= 0)


def test_helper_catches_a_wrong_derivative():
    with pytest.raises(AssertionError, match="gradient"):
        assert_parity(_WrongSigmoid.apply, torch.sigmoid, torch.randn(4, 3))


def test_helper_catches_a_different_choice_at_zero():
    with pytest.raises(AssertionError, match="gradient"):
        assert_parity(_ReLUOneAtZero.apply, torch.relu, torch.zeros(3))


@pytest.mark.parametrize("dtype", list(TOLERANCES))
def test_helper_catches_a_wrong_value_in_every_dtype(dtype):
    rel = 10 * tolerances(dtype)["rtol"]
    with pytest.raises(AssertionError, match="forward"):
        assert_parity(lambda z: torch.tanh(z) * (1 + rel), torch.tanh, torch.ones(4), dtype=dtype)


def test_helper_differentiates_the_target_too():
    p = assert_parity(torch.nn.functional.mse_loss, torch.nn.functional.mse_loss,
                      torch.randn(3), torch.randn(3))
    assert p.wrt == [0, 1] and all(g is not None for g in p.grads)
    with pytest.raises(AssertionError, match="input 1"):
        assert_parity(lambda a, y: torch.nn.functional.mse_loss(a, y.detach()),
                      torch.nn.functional.mse_loss, torch.randn(3), torch.randn(3))


def test_noncontiguous_keeps_values():
    t = torch.randn(3, 4)
    v = noncontiguous(t)
    assert not v.is_contiguous() and torch.equal(v, t)
    p = assert_parity(torch.sigmoid, torch.sigmoid, t, noncontiguous=True)
    assert not p.inputs[0].is_contiguous()
