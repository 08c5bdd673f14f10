"""torch.func transforms and forward-mode AD through every torchnn Function and DeepNetwork
(via functional_call) equal the same transforms through native PyTorch (float64)."""

import pytest
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as TF
from torch.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, vmap

import torchnn
from tests.transforms.helpers import CostOf, cases, ids, over_tensors, tensors64, weighted

TOL = {"atol": 1e-10, "rtol": 1e-7}


def _close(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, **TOL)


def _pair(case):
    """(ours, native) as functions of the float64 tensor inputs, and those inputs."""
    xs = tensors64(case)
    return over_tensors(case, case.fn), over_tensors(case, case.reference), xs


def _scalar(f, xs):
    return weighted(f, f(*xs).shape)


def _tangents(xs, seed=3):
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(x.shape, generator=gen, dtype=x.dtype) for x in xs)


TRANSFORMS = {
    "vmap": lambda f, xs: vmap(f)(*(torch.stack([x, 2 * x, -x]) for x in xs)),
    "grad": lambda f, xs: grad(_scalar(f, xs), argnums=tuple(range(len(xs))))(*xs),
    "jacrev": lambda f, xs: jacrev(f, argnums=tuple(range(len(xs))))(*xs),
    "jacfwd": lambda f, xs: jacfwd(f, argnums=tuple(range(len(xs))))(*xs),
    "hessian": lambda f, xs: hessian(_scalar(f, xs), argnums=0)(*xs),
    "jvp": lambda f, xs: jvp(f, xs, _tangents(xs)),
    "grad(grad)": lambda f, xs: grad(
        lambda *a: sum((g * t).sum() for g, t in zip(
            grad(_scalar(f, xs), argnums=tuple(range(len(xs))))(*a), _tangents(xs))),
        argnums=tuple(range(len(xs))))(*xs),
}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("case", cases(), ids=ids())
def test_transform_equals_native(case, transform):
    ours, native, xs = _pair(case)
    _close(TRANSFORMS[transform](ours, xs), TRANSFORMS[transform](native, xs))


@pytest.mark.parametrize("case", cases(), ids=ids())
def test_forward_ad_dual_tensors_equal_native(case):
    ours, native, xs = _pair(case)
    ts = _tangents(xs)
    results = []
    for f in (ours, native):
        with fwAD.dual_level():
            out = f(*(fwAD.make_dual(x, t) for x, t in zip(xs, ts)))
            primal, tangent = fwAD.unpack_dual(out)
            results.append((primal.clone(), tangent.clone()))
    _close(results[0], results[1])


@pytest.mark.parametrize("output", ["sigmoid", "identity"])
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_per_sample_gradients_of_the_cost_equal_native(hidden, output):
    """vmap(grad(loss), in_dims=(None, 0, 0)): one gradient per example, as a loop of
    torch.nn autograd on to_torch() gives (cross-entropy and squared-error costs)."""
    gen = torch.Generator().manual_seed(0)
    net = torchnn.DeepNetwork([3, 4, 1], hidden_activation=hidden, output_activation=output,
                              init="he", generator=gen, dtype=torch.float64)
    native_cost = TF.binary_cross_entropy if output == "sigmoid" else TF.mse_loss
    wrapped = CostOf(net)
    params = {k: v.detach() for k, v in wrapped.named_parameters()}
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 2, (6, 1), generator=gen).double()

    def loss(p, xi, yi):  # one example: xi (n_x,), yi (1,)
        return functional_call(wrapped, p, (xi.unsqueeze(0), yi.unsqueeze(0)))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    seq = net.to_torch()
    for i in range(x.shape[0]):
        seq.zero_grad()
        native_cost(seq(x[i : i + 1]), y[i : i + 1]).backward()
        want = [p.grad for p in seq.parameters()]
        got = [per_sample[k][i] for k in params]
        _close(tuple(got), tuple(want))


def test_network_second_derivative_in_the_weights_equals_native():
    """hessian of the cost in the last layer's weight, through functional_call."""
    gen = torch.Generator().manual_seed(1)
    net = torchnn.DeepNetwork([3, 4, 1], hidden_activation="tanh", init="he", generator=gen,
                              dtype=torch.float64)
    seq = net.to_torch()
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 2, (5, 1), generator=gen).double()
    w = net.layers[1].weight.detach()

    def ours(w):
        return functional_call(CostOf(net), {"net.layers.1.weight": w}, (x, y), strict=False)

    def native(w):
        return TF.binary_cross_entropy(functional_call(seq, {"2.weight": w}, (x,)), y)

    _close(hessian(ours)(w), hessian(native)(w))
