"""The saved-for-backward accounting against a hand count, and the recompute mode."""

import numpy as np
import pytest
import torch

import torchnn
from torchnn.bench.measure import saved_bytes, tape_bytes
from torchnn.bench.variants import Problem, build_variants
from torchnn.nn.explicit import forward_tape, recomputed_layers

# [3, 5, 4, 1], m = 8, float32: A^[1] 8x5, A^[2] 8x4, Z^[3] 8x1 -> 4 * 8 * (5 + 4 + 1) = 320 B
DIMS, M, F32 = [3, 5, 4, 1], 8, 4
ACTIVATIONS = 4 * 8 * (5 + 4 + 1)


def _problem(act="tanh"):
    return Problem("hand", DIMS, M, act)


def test_activation_bytes_hand_count():
    assert _problem().activation_bytes == ACTIVATIONS == 320


def test_torchnn_autograd_saved_bytes_hand_count():
    v = build_variants(_problem(), ("autograd",))["autograd"]
    act, total = saved_bytes(v.forward, v.exclude)
    # saved: A1, A2 (each once, though two Functions save them)                 -> 288 B
    # (the output layer's Function recomputes the 8x1 Z3 from A2 in its backward)
    # plus, not activations: x (layer 1's dW) 8x3, W2 4x5, W3 1x4, b3 1, y 8x1  -> 228 B
    assert act == 288 < ACTIVATIONS
    assert total == 288 + F32 * (8 * 3 + 4 * 5 + 1 * 4 + 1 + 8 * 1)


def test_torch_nn_leaky_relu_saves_twice_hand_count():
    v = build_variants(_problem("leaky_relu"), ("torch.nn",))["torch.nn"]
    act, _ = saved_bytes(v.forward, v.exclude)
    # LeakyReLU saves its input Z, the next Linear saves the output A: Z1, A1, Z2, A2, Z3
    assert act == F32 * 8 * (5 + 5 + 4 + 4 + 1)


def test_explicit_tape_hand_count():
    p = _problem()
    net = p.network()
    with torch.no_grad():
        z, a_prev, saved = forward_tape(net, p.x, recompute=False)
        assert tape_bytes([z, *a_prev[1:], *saved[1:]], [p.x]) == 320
        z, a_prev, saved = forward_tape(net, p.x, recompute=True)
        # A^[1] is dropped (recomputed in the backward): A2 + Z3 = 4 * 8 * (4 + 1)
        assert a_prev[1] is None and saved[1] is None
        assert tape_bytes([z, *a_prev[1:], *saved[1:]], [p.x]) == 160


def test_numpy_tape_counts_each_array_once():
    a = np.zeros((4, 8))
    assert tape_bytes([a, a[:2], np.zeros(3)]) == a.nbytes + 24


def test_recomputed_layers_are_odd_hidden_layers():
    assert recomputed_layers(5, True) == {1, 3}
    assert recomputed_layers(2, True) == {1}
    assert recomputed_layers(1, True) == frozenset()
    assert recomputed_layers(5, False) == frozenset()


@pytest.mark.parametrize("act,slope", [("tanh", 0.01), ("relu", 0.01), ("sigmoid", 0.01),
                                       ("leaky_relu", 0.01), ("leaky_relu", -0.5)])
def test_recompute_gives_the_same_gradients(act, slope, monkeypatch):
    from torchnn.nn import explicit

    # NOTE: bit for bit against the same (torch) kernels: without recompute this network is
    # small enough for the numpy engine, whose sums may round differently
    monkeypatch.setattr(explicit, "numpy_step_applies", lambda *a: False)
    torch.manual_seed(0)
    dims = [6, 9, 7, 5, 3, 1]
    x = torch.randn(13, 6, dtype=torch.float64)
    y = (torch.rand(13, 1) > 0.5).double()
    a = torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he", dtype=torch.float64)
    b = torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he", dtype=torch.float64,
                            recompute=True)
    b.load_state_dict(a.state_dict())
    ja = a.backprop(x, y)
    jb = b.backprop(x, y)
    torch.testing.assert_close(ja, jb, rtol=0, atol=0)
    for qa, qb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(qa.grad, qb.grad, rtol=0, atol=1e-15)
    # and autograd agrees with both
    c = torchnn.DeepNetwork(dims, act, negative_slope=slope, dtype=torch.float64)
    c.load_state_dict(a.state_dict())
    c.cost(x, y).backward()
    for qa, qc in zip(a.parameters(), c.parameters()):
        torch.testing.assert_close(qa.grad, qc.grad, rtol=1e-10, atol=1e-12)


def test_recompute_gd_step_matches():
    p = Problem("t", [6, 9, 7, 1], 11, "relu", lr=0.4, dtype=torch.float64)
    a, b = p.network(), p.network()
    for _ in range(3):
        a.gd_step(p.x, p.y, p.lr)
        b.gd_step(p.x, p.y, p.lr, recompute=True)
    for qa, qb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(qa, qb, rtol=0, atol=1e-15)


@pytest.mark.parametrize("hidden", [2, 3, 4])
def test_recompute_lowers_gd_steps_held_buffers_from_three_hidden_layers(hidden):
    # NOTE: gd_step runs the forward and the backward in one call over buffers it reuses. The
    # backward of layer 2 needs dZ^[2], A^[1] and dA^[1] at once, so with two hidden layers
    # recompute holds as many m x n buffers as the plain step (three); with H hidden layers the
    # plain step holds H + 1 (every A^[l] and one dA scratch), recompute H // 2 + 2 (the kept
    # A^[l], one buffer shared by the dropped ones, the scratch). Plus Z^[L] (m x 1) in both.
    from torchnn.nn import explicit

    m, n = 64, 128  # above SERIAL_MACS: the torch kernels' workspace
    p = Problem("t", [32, *[n] * hidden, 1], m, "tanh")
    plain, ckpt = p.network(), p.network()
    plain.gd_step(p.x, p.y, 0.1)
    ckpt.gd_step(p.x, p.y, 0.1, recompute=True)

    def held(net):
        ws = explicit._WORKSPACES[net]
        return tape_bytes([*ws.outs, *ws.das[1:]])

    layer, z_out = F32 * m * n, F32 * m
    assert held(plain) == (hidden + 1) * layer + z_out
    assert held(ckpt) == (hidden // 2 + 2) * layer + z_out
