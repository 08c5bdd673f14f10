"""``dense_activation``: one Function for a whole hidden layer, A = g(A_prev Wᵀ + b).

Compared with the two Functions it fuses (``dense`` then the activation) bit for bit, with
``torch.nn.functional`` to tolerance, and checked for what it saves, its raw backward shapes,
its errors and the network's use of it (hooks still fire)."""

import pytest
import torch
import torch.nn.functional as TF

import torchnn
from torchnn import functional as F

GS = ["sigmoid", "tanh", "relu", "leaky_relu"]


def _torch_layer(x, w, b, g, slope):
    z = TF.linear(x, w, b)
    return TF.leaky_relu(z, slope) if g == "leaky_relu" else getattr(torch, g)(z)


def _ours_separate(x, w, b, g, slope):
    z = F.dense(x, w, b)
    return F.leaky_relu(z, slope) if g == "leaky_relu" else getattr(F, g)(z)


def _inputs(dtype=torch.float64, x_grad=True, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(7, 5, generator=gen, dtype=dtype).requires_grad_(x_grad)
    w = torch.randn(3, 5, generator=gen, dtype=dtype).requires_grad_()
    b = torch.randn(3, generator=gen, dtype=dtype).requires_grad_()
    return x, w, b


def _grads(fn, x, w, b, g, slope, seed=1):
    out = fn(x, w, b, g, slope)
    gy = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    leaves = [t for t in (x, w, b) if t.requires_grad]
    return out, torch.autograd.grad(out, leaves, gy)


@pytest.mark.parametrize("slope", [0.01, 0.0, 2.0])
@pytest.mark.parametrize("g", GS)
@pytest.mark.parametrize("x_grad", [True, False])
def test_equals_the_two_functions_it_fuses_bit_for_bit(g, slope, x_grad):
    x, w, b = _inputs(torch.float32, x_grad)
    out, grads = _grads(F.dense_activation, x, w, b, g, slope)
    ref, ref_grads = _grads(_ours_separate, x, w, b, g, slope)
    assert "DenseActivation" in out.grad_fn.name()
    assert torch.equal(out, ref)
    assert len(grads) == len(ref_grads) == (3 if x_grad else 2)
    for a, r in zip(grads, ref_grads):
        assert torch.equal(a, r)


@pytest.mark.parametrize("slope", [0.01, -0.5])
@pytest.mark.parametrize("g", GS)
def test_matches_torch_nn_functional(g, slope):
    x, w, b = _inputs()
    out, grads = _grads(F.dense_activation, x, w, b, g, slope)
    ref, ref_grads = _grads(_torch_layer, x, w, b, g, slope)
    torch.testing.assert_close(out, ref)
    for a, r in zip(grads, ref_grads):
        torch.testing.assert_close(a, r)


@pytest.mark.parametrize("g", GS)
def test_gradcheck_and_gradgradcheck(g):
    x, w, b = _inputs()
    fn = lambda x, w, b: F.dense_activation(x, w, b, g, 0.1)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert torch.autograd.gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("g", GS)
def test_raw_backward_shapes(g):
    # NOTE: the engine would silently sum a wrongly shaped bias gradient: call the node directly
    x, w, b = _inputs(torch.float32)
    out = F.dense_activation(x, w, b, g, 0.01)
    grads = out.grad_fn.apply(torch.ones_like(out))  # Function.backward(ctx, g) as is
    assert [None if t is None else tuple(t.shape) for t in grads] == [
        (7, 5), (3, 5), (3,), None, None]


def test_saves_the_output_and_only_what_each_gradient_needs():
    saved = []

    def pack(t):
        saved.append(t)
        return t

    x, w, b = _inputs(torch.float32, x_grad=False)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        a = F.dense_activation(x, w, b, "tanh")
    ptrs = {t.data_ptr() for t in saved}
    assert ptrs == {x.data_ptr(), a.data_ptr()}  # W is not kept: the input needs no gradient
    saved.clear()
    x.requires_grad_()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        a = F.dense_activation(x, w, b, "relu")
    assert {t.data_ptr() for t in saved} == {x.data_ptr(), w.data_ptr(), a.data_ptr()}


def test_grad_output_is_not_modified():
    x, w, b = _inputs(torch.float32)
    out = F.dense_activation(x, w, b, "sigmoid")
    gy = torch.randn_like(out)
    keep = gy.clone()
    out.backward(gy)
    assert torch.equal(gy, keep)


def test_errors_name_the_argument_and_what_was_expected():
    x, w, b = _inputs(torch.float32)
    with pytest.raises(ValueError, match=r"unknown activation 'softmax'; expected one of"):
        F.dense_activation(x, w, b, "softmax")
    with pytest.raises(TypeError, match=r"negative_slope must be a real number, got '0.1'"):
        F.dense_activation(x, w, b, "leaky_relu", "0.1")
    with pytest.raises(ValueError, match=r"dense_activation: input has shape \(7, 4\)"):
        F.dense_activation(x[:, :4], w, b, "tanh")
    with pytest.raises(TypeError, match=r"dense_activation: input has dtype torch.float64"):
        F.dense_activation(x.double(), w, b, "tanh")


def _net(g="tanh", slope=0.01):
    """A network whose ``cost`` records the layer Functions (``graph="layers"``)."""
    gen = torch.Generator().manual_seed(0)
    return torchnn.DeepNetwork([4, 6, 5, 1], g, negative_slope=slope, init="he", generator=gen,
                               graph="layers")


@pytest.mark.parametrize("g,slope", [("tanh", 0.01), ("relu", 0.01), ("leaky_relu", -0.3),
                                     ("identity", 0.01)])
def test_network_cost_and_gradients_equal_its_torch_twin(g, slope):
    net = _net(g, slope)
    seq = net.to_torch()
    x = torch.randn(9, 4, generator=torch.Generator().manual_seed(1))
    y = (x[:, :1] > 0).float()
    net.cost(x, y).backward()
    TF.binary_cross_entropy(seq(x), y).backward()
    for p, q in zip(net.parameters(), seq.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


def test_network_runs_one_node_per_hidden_layer_and_modules_with_hooks():
    net = _net("tanh")
    x = torch.randn(9, 4)
    z = net.logits(x)
    assert "DenseActivation" in z.grad_fn.next_functions[0][0].name()
    seen = []
    handle = net.layers[0].register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    z_hooked = net.logits(x)
    handle.remove()
    assert seen == [torch.Size([9, 6])]  # the hook fired: the modules ran one by one
    assert torch.equal(z, z_hooked)
    handle = net.hidden.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    net.logits(x)
    handle.remove()
    assert seen[1:] == [torch.Size([9, 6]), torch.Size([9, 5])]


# ----------------------------------------------------------------------------------------------
# dense_cross_entropy: the output layer and J as one Function
# ----------------------------------------------------------------------------------------------


def _out_inputs(dtype=torch.float64, y_grad=False, seed=0):
    x, w, b = _inputs(dtype, seed=seed)
    y = torch.rand(7, 3, generator=torch.Generator().manual_seed(seed + 1), dtype=dtype)
    return x, w, b, y.requires_grad_(y_grad)


def _bce_of_dense(x, w, b, y):
    return TF.binary_cross_entropy_with_logits(TF.linear(x, w, b), y)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_layer_equals_dense_then_cost_bit_for_bit(dtype):
    x, w, b, y = _out_inputs(dtype)
    j = F.dense_cross_entropy(x, w, b, y)
    ref = F.binary_cross_entropy_with_logits(F.dense(x, w, b), y)
    assert "DenseCrossEntropy" in j.grad_fn.name()
    assert torch.equal(j, ref)
    for a, r in zip(torch.autograd.grad(j, (x, w, b)), torch.autograd.grad(ref, (x, w, b))):
        assert torch.equal(a, r)


def test_cross_entropy_layer_matches_torch_including_the_target_gradient():
    x, w, b, y = _out_inputs(y_grad=True)
    j, ref = F.dense_cross_entropy(x, w, b, y), _bce_of_dense(x, w, b, y)
    torch.testing.assert_close(j, ref)
    for a, r in zip(torch.autograd.grad(j, (x, w, b, y)), torch.autograd.grad(ref, (x, w, b, y))):
        torch.testing.assert_close(a, r)
    assert torch.autograd.gradcheck(F.dense_cross_entropy, (x, w, b, y))
    assert torch.autograd.gradgradcheck(F.dense_cross_entropy, (x, w, b, y))


def test_cross_entropy_layer_raw_backward_shapes_and_saved_tensors():
    saved = []

    def pack(t):
        saved.append(t)
        return t

    x, w, b, y = _out_inputs(torch.float32, y_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        j = F.dense_cross_entropy(x, w, b, y)
    # only its inputs: Z is recomputed in backward, so no activation of its own is kept
    assert {t.data_ptr() for t in saved} == {x.data_ptr(), w.data_ptr(), b.data_ptr(),
                                             y.data_ptr()}
    grads = j.grad_fn.apply(torch.ones(()))
    assert [tuple(g.shape) for g in grads] == [(7, 5), (3, 5), (3,), (7, 3)]


def test_cross_entropy_layer_labels_and_errors():
    x, w, b, y = _out_inputs(torch.float32)
    labels = (y > 0.5).long()
    torch.testing.assert_close(F.dense_cross_entropy(x, w, b, labels),
                               _bce_of_dense(x, w, b, labels.float()))
    with pytest.raises(ValueError, match=r"target shape \(7, 2\) must equal the layer's output "
                                         r"shape \(7, 3\)"):
        F.dense_cross_entropy(x, w, b, y[:, :2])
    with pytest.raises(TypeError, match="expected target as a torch.Tensor, got list"):
        F.dense_cross_entropy(x, w, b, [[0.0] * 3] * 7)
    with pytest.raises(ValueError, match=r"dense_cross_entropy: input has shape \(7, 4\)"):
        F.dense_cross_entropy(x[:, :4], w, b, y)


def test_cross_entropy_layer_under_autocast_runs_the_cost_in_float32():
    x, w, b, y = _out_inputs(torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        j = F.dense_cross_entropy(x, w, b, y)
        ref = _bce_of_dense(x, w, b, y)
    assert j.dtype == ref.dtype == torch.float32
    torch.testing.assert_close(j, ref, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("hook_on", [None, "last", "hidden"])
def test_network_cost_is_one_node_for_the_output_layer_unless_hooked(hook_on):
    net = _net("tanh")
    seq = net.to_torch()
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(9, 4, generator=gen)
    y = (torch.rand(9, 1, generator=gen) > 0.5).float()
    seen = []
    module = {"last": net.layers[2], "hidden": net.hidden, None: None}[hook_on]
    handle = module and module.register_forward_hook(lambda *args: seen.append(1))
    cost = net.cost(x, y)
    if handle:
        handle.remove()
    assert ("DenseCrossEntropy" in cost.grad_fn.name()) == (hook_on is None or hook_on == "hidden")
    assert bool(seen) == (hook_on is not None)
    cost.backward()
    TF.binary_cross_entropy(seq(x), y).backward()
    for p, q in zip(net.parameters(), seq.parameters()):
        torch.testing.assert_close(p.grad, q.grad)
