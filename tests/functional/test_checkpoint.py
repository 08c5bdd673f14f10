"""dense_activation_pair: two hidden layers in one Function that rebuilds the middle activation
in its backward; the same values and gradients as two dense_activation layers, half the saved
activations, and DeepNetwork(recompute=True) built from it. (The 14 checks of check_function,
vmap, jvp, compile and autocast run on it in tests/transforms through the catalog.)"""

import pytest
import torch

import torchnn
import torchnn.functional as F
from torchnn.bench.measure import saved_bytes

ACTIVATIONS = [("sigmoid", 0.01), ("tanh", 0.01), ("relu", 0.01), ("leaky_relu", 0.2)]


def _layers(seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(7, 5), (6, 5), (6,), (4, 6), (4,)]
    return [torch.randn(*s, generator=gen, dtype=dtype).requires_grad_() for s in shapes]


@pytest.mark.parametrize("act,slope", ACTIVATIONS)
def test_pair_equals_two_dense_activation_layers(act, slope):
    x, w1, b1, w2, b2 = args = _layers()
    out = F.dense_activation_pair(x, w1, b1, w2, b2, act, slope)
    ref = F.dense_activation(F.dense_activation(x, w1, b1, act, slope), w2, b2, act, slope)
    torch.testing.assert_close(out, ref, rtol=1e-14, atol=0)
    g = torch.randn_like(out)
    for got, want in zip(torch.autograd.grad(out, args, g), torch.autograd.grad(ref, args, g)):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


def test_pair_saves_its_input_and_output_but_not_the_middle_activation():
    x, w1, b1, w2, b2 = _layers()
    act, _ = saved_bytes(lambda: F.dense_activation_pair(x, w1, b1, w2, b2, "tanh"),
                         [x, w1, b1, w2, b2])
    assert act == 8 * 7 * 4  # A2 (7 x 4, float64); A1 (7 x 6) is not kept
    two, _ = saved_bytes(
        lambda: F.dense_activation(F.dense_activation(x, w1, b1, "tanh"), w2, b2, "tanh"),
        [x, w1, b1, w2, b2])
    assert two == act + 8 * 7 * 6  # the plain pair of layers keeps A1 too


def test_pair_without_input_gradient_gives_only_parameter_gradients():
    x, w1, b1, w2, b2 = _layers()
    x = x.detach()
    out = F.dense_activation_pair(x, w1, b1, w2, b2, "relu")
    grads = torch.autograd.grad(out.sum(), (w1, b1, w2, b2))
    ref = torch.autograd.grad(F.dense_activation(F.dense_activation(x, w1, b1, "relu"), w2, b2,
                                                 "relu").sum(), (w1, b1, w2, b2))
    for got, want in zip(grads, ref):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("hidden", [1, 2, 3, 4])
@pytest.mark.parametrize("act,slope", ACTIVATIONS)
def test_network_recompute_autograd_matches_and_keeps_every_other_activation(hidden, act, slope):
    torch.manual_seed(hidden)
    dims = [5, *[6 + k for k in range(hidden)], 1]
    plain = torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he", dtype=torch.float64)
    ckpt = torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he", dtype=torch.float64,
                               recompute=True)
    ckpt.load_state_dict(plain.state_dict())
    x, y = torch.randn(9, 5, dtype=torch.float64), (torch.rand(9, 1) > 0.5).double()
    j_plain, j_ckpt = plain.cost(x, y), ckpt.cost(x, y)
    assert torch.equal(j_plain, j_ckpt)
    j_plain.backward()
    j_ckpt.backward()
    for p, q in zip(plain.parameters(), ckpt.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-12, atol=1e-14)
    kept = [n for l, n in enumerate(dims[1:-1], 1) if l % 2 == 0 or l == hidden]
    act_bytes, _ = saved_bytes(lambda: ckpt.cost(x, y), [x, y, *ckpt.parameters()])
    assert act_bytes == 8 * 9 * sum(kept)  # even layers, and an odd last hidden layer
    plain_bytes, _ = saved_bytes(lambda: plain.cost(x, y), [x, y, *plain.parameters()])
    assert plain_bytes == 8 * 9 * sum(dims[1:-1])


def test_pair_errors_name_what_they_got():
    x, w1, b1, w2, b2 = _layers()
    with pytest.raises(ValueError, match="unknown activation 'identity'"):
        F.dense_activation_pair(x, w1, b1, w2, b2, "identity")
    with pytest.raises(ValueError, match="negative_slope must be a real number >= 0.*-0.5"):
        F.dense_activation_pair(x, w1, b1, w2, b2, "leaky_relu", -0.5)
    with pytest.raises(ValueError, match=r"second layer.*weight \(4, 5\)"):
        F.dense_activation_pair(x, w1, b1, torch.randn(4, 5, dtype=x.dtype), b2, "tanh")
    with pytest.raises(TypeError, match="second layer.*float64 but weight has dtype torch.float32"):
        F.dense_activation_pair(x, w1, b1, w2.float(), b2, "tanh")
