"""torch.compile: a whole DeepNetwork training step (forward, backward, SGD update) is one graph
with no break, gives eager's gradients, and does not recompile for every batch size.

NOTE (the design, measured on torch 2.13): ``Tensor.backward()`` inside a compiled function is
a graph break unless ``torch._dynamo.config.trace_autograd_ops`` is on; with it on, Dynamo
traces the backward, our Functions' hand-written ``backward`` included, into the same graph.
The other candidate, ``torch.func.grad`` of the cost inside the compiled function, is silently
wrong on this torch: Dynamo inlines a custom Function's forward under ``torch.func.grad`` and
drops its ``backward`` (pytorch/pytorch#193279), so we do not use it (pinned below as xfail).
The gradients are reset outside the step (``net.zero_grad()``, as ``optimizer.zero_grad()``
is called before a step): ``p.grad = None`` inside the compiled step is not kept on torch 2.13
(the next call finds the old gradient and accumulates into it, silently).
"""

import itertools
import types

import pytest
import torch
import torch._dynamo
import torch.autograd.forward_ad as forward_ad
from torch._dynamo.testing import CompileCounterWithBackend

import torchnn
from tests.transforms.helpers import CostOf, cases, over_tensors
from torchnn.testing._subject import defines_jvp

_copies = itertools.count()
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]


def make_net(hidden="tanh", output="sigmoid", dims=(3, 5, 4, 1), graph="layers"):
    return torchnn.DeepNetwork(list(dims), hidden_activation=hidden, output_activation=output,
                               init="he", generator=torch.Generator().manual_seed(0),
                               graph=graph)


def data(m, seed=0, classifier=True):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(m, 3, generator=gen)
    y = torch.randint(0, 2, (m, 1), generator=gen).float() if classifier else x[:, :1] ** 2
    return x, y


def sgd_step(net, x, y, lr: float = 0.1):
    """One step of Algorithm 1.1: J, dJ/dθ (eqs. 2.9-2.12 by autograd), θ := θ - α dθ.

    Call ``net.zero_grad()`` first (see the NOTE at the top).
    """
    cost = net.cost(x, y)
    cost.backward()
    grads = []
    with torch.no_grad():
        for p in net.parameters():
            grads.append(p.grad.clone())
            p -= lr * p.grad
    return cost.detach(), grads


def run_both(step, net_c, net_e, x, y):
    """One compiled and one eager step from zeroed gradients; asserts they agree."""
    net_c.zero_grad()
    net_e.zero_grad()
    assert_same_step(net_c, net_e, step(net_c, x, y), sgd_step(net_e, x, y))


def compiled_step(backend="aot_eager"):
    """A fresh compiled copy of sgd_step (its own Dynamo cache) and its compile counter."""
    counter = CompileCounterWithBackend(backend)
    code = sgd_step.__code__.replace(co_name=f"sgd_step_{next(_copies)}")
    fresh = types.FunctionType(code, sgd_step.__globals__, code.co_name, sgd_step.__defaults__)
    return torch.compile(fresh, backend=counter, fullgraph=True), counter


def assert_same_step(net_c, net_e, out_c, out_e):
    torch.testing.assert_close(out_c[0], out_e[0])
    for gc, ge in zip(out_c[1], out_e[1]):
        torch.testing.assert_close(gc, ge, atol=1e-6, rtol=1e-5)
    for pc, pe in zip(net_c.parameters(), net_e.parameters()):
        torch.testing.assert_close(pc, pe, atol=1e-6, rtol=1e-5)


# NOTE: the config exists from torch 2.11 on (checked on 2.6-2.10 wheels: absent); without it
# a compiled step has no way to put loss.backward() in its graph, so its tests skip
HAS_TRACE_AUTOGRAD_OPS = hasattr(torch._dynamo.config, "trace_autograd_ops")


@pytest.fixture(autouse=True)
def trace_backward():
    if not HAS_TRACE_AUTOGRAD_OPS:
        pytest.skip(f"torch {torch.__version__} has no torch._dynamo.config.trace_autograd_ops "
                    "(torch >= 2.11)")
    with torch._dynamo.config.patch(trace_autograd_ops=True):
        yield


@pytest.mark.parametrize("graph", ["layers", "network"])
@pytest.mark.parametrize("hidden", ACTIVATIONS)
def test_whole_step_is_one_graph_with_eager_gradients(hidden, graph):
    # graph="network": one DenseNetworkFunction (its setup_context class under Dynamo)
    step, counter = compiled_step()
    net_c, net_e = make_net(hidden, graph=graph), make_net(hidden, graph=graph)
    x, y = data(8)
    for _ in range(3):  # the same shapes: compiled once, then reused
        run_both(step, net_c, net_e, x, y)
    assert counter.frame_count == 1  # fullgraph=True: a break would have raised


def test_regression_step_is_one_graph():
    step, counter = compiled_step()
    net_c, net_e = make_net("relu", "identity"), make_net("relu", "identity")
    x, y = data(8, classifier=False)
    run_both(step, net_c, net_e, x, y)
    assert counter.frame_count == 1


def test_explain_reports_one_graph_and_no_break():
    x, y = data(8)
    explanation = torch._dynamo.explain(sgd_step)(make_net(), x, y)
    assert explanation.graph_count == 1
    assert explanation.graph_break_count == 0, explanation.break_reasons


@pytest.mark.parametrize("graph", ["layers", "network"])
def test_new_batch_sizes_compile_at_most_twice(graph):
    """Automatic dynamic shapes: the first new batch size recompiles once with a symbolic m,
    every later size reuses that graph."""
    step, counter = compiled_step()
    net_c, net_e = make_net(graph=graph), make_net(graph=graph)
    for m in (8, 5, 9, 13, 3, 16):
        run_both(step, net_c, net_e, *data(m, seed=m))
    assert counter.frame_count <= 2


def test_inductor_step_matches_eager():
    """The default backend, once (slow to compile): several steps, several batch sizes."""
    step, counter = compiled_step("inductor")
    net_c, net_e = make_net("leaky_relu"), make_net("leaky_relu")
    for m in (8, 6, 12):
        run_both(step, net_c, net_e, *data(m, seed=m))
    assert counter.frame_count <= 2


def test_compiled_cost_with_backward_outside():
    """The AOT autograd path: compile forward + cost only; ``cost.backward()`` outside runs the
    compiled backward graph traced from our hand-written backward."""
    with torch._dynamo.config.patch(trace_autograd_ops=False):
        counter = CompileCounterWithBackend("aot_eager")
        net_c, net_e = make_net(), make_net()
        cost = torch.compile(net_c.cost, backend=counter, fullgraph=True)
        x, y = data(8)
        cost(x, y).backward()
        net_e.cost(x, y).backward()
    assert counter.frame_count == 1
    for pc, pe in zip(net_c.parameters(), net_e.parameters()):
        torch.testing.assert_close(pc.grad, pe.grad)


@pytest.mark.xfail(reason="pytorch#193279: torch.compile of torch.func.grad drops a custom "
                          "Function's backward (wrong gradients, no error)", strict=False)
def test_func_grad_inside_compile_matches_eager():
    net = make_net()
    wrapped = CostOf(net)
    params = {k: v.detach() for k, v in wrapped.named_parameters()}
    x, y = data(8)

    def grads(p):
        return torch.func.grad(lambda p: torch.func.functional_call(wrapped, p, (x, y)))(p)

    eager = grads(params)
    compiled = torch.compile(grads, backend="aot_eager", fullgraph=True)(params)
    for k in eager:
        torch.testing.assert_close(compiled[k], eager[k])


FUNCTIONS = [c for c in cases() if not c.name.startswith("DeepNetwork")]


@pytest.mark.parametrize("case", FUNCTIONS, ids=[c.name for c in FUNCTIONS])
def test_eager_class_has_jvp_and_compiled_call_avoids_it(case):
    """Both sides of ``_autograd.twin``: eager calls inside a forward-AD level get a Function
    with jvp, whose direct compilation is refused ("Unsupported custom jvp"); the public
    function, picked under Dynamo, compiles as one graph with no jvp in sight. Eager calls
    outside a dual level (no dual tensor can exist there) get the class without jvp."""
    args = [t.detach().requires_grad_() if isinstance(t, torch.Tensor) and t.is_floating_point()
            else t for t in case.inputs]
    with forward_ad.dual_level():
        eager_cls = case.fn(*args).grad_fn._forward_cls
    assert defines_jvp(eager_cls)
    assert not defines_jvp(case.fn(*args).grad_fn._forward_cls)
    # NOTE: every case compiles the same ``over_tensors`` code object; without a reset Dynamo
    # stops recompiling it after 8 cases and runs the rest eagerly (frame_count 0)
    torch._dynamo.reset()
    counter = CompileCounterWithBackend("eager")
    f = over_tensors(case, case.fn)
    tensors = [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]
    torch.compile(f, backend=counter, fullgraph=True)(*tensors)
    assert counter.frame_count == 1
    with pytest.raises(torch._dynamo.exc.Unsupported, match="jvp"):
        torch.compile(eager_cls.apply, backend="eager", fullgraph=True)(*args)
