"""Every benchmarked variant does the same work: same parameters after a few steps."""

import copy
from fractions import Fraction

import numpy as np
import pytest
import torch

from torchnn.bench.variants import VARIANTS, Problem, build_variants, parse_size

STEPS = 3
EAGER = tuple(v for v in VARIANTS if v != "compiled")


def _run(p: Problem, names) -> dict:
    variants = build_variants(p, names)
    for v in variants.values():
        for _ in range(STEPS):
            v.step()
    return {name: [t.detach().double().cpu() for t in v.params()] for name, v in variants.items()}


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu"])
def test_variants_and_floors_end_at_torch_nns_parameters(activation):
    p = Problem("t", [5, 7, 6, 1], 24, activation, lr=0.5)
    start = [t.detach().double() for t in p.network().parameters()]
    params = _run(p, EAGER)
    assert set(params) == set(EAGER)  # the floors apply to every activation (slope >= 0)
    ref = params["torch.nn"]
    assert all(not torch.allclose(a, b) for a, b in zip(ref, start))  # the steps moved them
    for name in params:
        # float32 variants agree to rounding; numpy runs the same steps in float64
        tol = 1e-4 if name == "numpy" else 1e-5
        for got, want in zip(params[name], ref):
            assert got.shape == want.shape, name
            torch.testing.assert_close(got, want, atol=tol, rtol=tol, msg=name)


def test_a_step_that_does_nothing_would_be_caught():
    """The comparison above must be able to fail: a wrong learning rate ends elsewhere."""
    p = Problem("t", [5, 7, 6, 1], 24, "tanh", lr=0.5)
    q = Problem("t", [5, 7, 6, 1], 24, "tanh", lr=0.45)
    for name in ("explicit", "kernels", "bare-fn", "numpy"):
        a, b = _run(p, (name,))[name], _run(q, (name,))[name]
        assert not all(torch.allclose(x, y, atol=1e-5, rtol=1e-5) for x, y in zip(a, b)), name


def test_compiled_variant_matches_torch_nn():
    p = Problem("t", [4, 6, 1], 16, "tanh", lr=0.5)
    params = _run(p, ("compiled", "torch.nn"))
    for got, want in zip(params["compiled"], params["torch.nn"]):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_floors_need_a_leaky_slope_of_at_least_zero():
    from torchnn.bench.floors import bare_function_forward, kernels_step

    p = Problem("t", [3, 4, 1], 8, "leaky_relu")
    net0 = p.network()
    net0.negative_slope = -0.5  # g' is then read from Z, which the floors do not keep
    for make in (kernels_step, bare_function_forward):
        with pytest.raises(ValueError, match="leaky slope >= 0"):
            make(p, net0)


def test_unknown_variants_are_named():
    with pytest.raises(ValueError, match=r"unknown variant\(s\) \['tape'\]"):
        build_variants(Problem("t", [3, 4, 1], 8), ("explicit", "tape"))


def test_held_bytes_are_gd_steps_workspace():
    p = Problem("t", [6, 9, 7, 1], 11, "relu")
    v = build_variants(p, ("explicit", "recompute"))
    param_bytes = 4 * sum(t.numel() for t in p.network().parameters())
    dA_bytes = 4 * p.m * (9 + 7)  # dA^[1], dA^[2]
    z_bytes = 4 * p.m * (9 + 7 + 1)  # Z^[1..L], kept only without recompute
    for name, variant in v.items():
        assert variant.held() == 0  # nothing before the first step
        variant.step()
        extra = 0 if name == "recompute" else z_bytes
        assert variant.held() == param_bytes + dA_bytes + extra


def test_gd_step_equals_backprop_then_update():
    p = Problem("t", [6, 8, 5, 2], 20, "relu", lr=0.3, dtype=torch.float64)
    a, b = p.network(), p.network()
    for _ in range(2):
        ja = a.gd_step(p.x, p.y, p.lr)
        b.zero_grad()
        jb = b.backprop(p.x, p.y)
        with torch.no_grad():
            for q in b.parameters():
                q -= p.lr * q.grad
        torch.testing.assert_close(ja, jb, atol=1e-12, rtol=0)
    for qa, qb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(qa, qb, atol=1e-12, rtol=0)
    assert all(q.grad is None for q in a.parameters())  # gd_step never touches .grad


def test_gd_step_equals_torch_sgd_on_autograd():
    p = Problem("t", [6, 8, 5, 1], 20, "tanh", lr=0.3, dtype=torch.float64)
    a = p.network()
    b = copy.deepcopy(a)
    opt = torch.optim.SGD(b.parameters(), lr=p.lr)
    for _ in range(3):
        a.gd_step(p.x, p.y, p.lr)
        opt.zero_grad()
        b.cost(p.x, p.y).backward()
        opt.step()
    for qa, qb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(qa, qb, atol=1e-12, rtol=0)


@pytest.mark.parametrize("lr", [0, -1.0, float("nan"), float("inf"), "0.1", True])
def test_gd_step_rejects_bad_learning_rates(lr):
    p = Problem("t", [3, 4, 1], 8)
    net = p.network()
    before = [t.clone() for t in net.parameters()]
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got"):
        net.gd_step(p.x, p.y, lr)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))  # nothing moved


def test_gd_step_learning_rate_types():
    # any finite real > 0 is a learning rate (numpy's float32 too); a tensor is named, not read
    p = Problem("t", [3, 4, 1], 8)
    ref = p.network()
    ref.gd_step(p.x, p.y, 0.5)
    for lr in (np.float32(0.5), np.float64(0.5), Fraction(1, 2)):
        net = p.network()
        net.gd_step(p.x, p.y, lr)
        for a, b in zip(net.parameters(), ref.parameters()):
            torch.testing.assert_close(a, b, atol=0, rtol=0)
    with pytest.raises(TypeError, match=r"lr must be a Python number, got a 0-d tensor"):
        p.network().gd_step(p.x, p.y, torch.tensor(0.5))


def test_parse_size():
    assert parse_size("flower") == ("flower", [2, 4, 1], 400)
    assert parse_size("3-5-1@32") == ("3-5-1@32", [3, 5, 1], 32)
    for bad in ("huge", "3-5-1", "3@32", "3-0-1@32", "3-5-1@0"):
        with pytest.raises(ValueError, match=f"unknown size '{bad}'"):
            parse_size(bad)


def test_tiny_steps_run_serial_and_restore_the_thread_count():
    p = Problem("t", [2, 4, 1], 40, "tanh", lr=0.5)
    net = p.network()
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        net.gd_step(p.x, p.y, p.lr)
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError):  # an error inside the step restores it too
            net.gd_step(p.x, p.y[:5], p.lr, check_values=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_explicit_path_under_autocast_keeps_float32_parameters():
    p = Problem("t", [3, 6, 1], 16, "tanh", lr=0.1)
    a, b, c = p.network(), p.network(), p.network()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        a.backprop(p.x, p.y)
        j = b.cost(p.x, p.y)
        c.gd_step(p.x, p.y, p.lr)
    j.backward()
    for qa, qb, qc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert qa.grad.dtype == qc.dtype == torch.float32
        torch.testing.assert_close(qa.grad, qb.grad, atol=0.02, rtol=0.05)
        torch.testing.assert_close(qc, (qb - p.lr * qb.grad).detach(), atol=0.01, rtol=0.05)
