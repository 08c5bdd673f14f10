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


def test_autograd_one_node_saved_bytes_hand_count():
    v = build_variants(_problem(), ("autograd-network",))["autograd-network"]
    act, total = saved_bytes(v.forward, v.exclude)
    # one DenseNetworkFunction saves A1 and A2 and recomputes the 8x1 Z3: the per-layer
    # graph's activations, and besides them x, every parameter and y
    assert act == 288 < ACTIVATIONS
    assert total == 288 + F32 * (8 * 3 + 5 * 3 + 5 + 4 * 5 + 4 + 1 * 4 + 1 + 8 * 1)


def test_autograd_recompute_saved_bytes_hand_count():
    v = build_variants(_problem(), ("autograd-recompute",))["autograd-recompute"]
    act, _ = saved_bytes(v.forward, v.exclude)
    # one DenseActivationPairFunction for layers 1-2 saves x and A2 (A1 is rebuilt in its
    # backward), the output layer's Function A2 again (the same storage): A2 8x4 alone
    assert act == F32 * 8 * 4 == 128 <= ACTIVATIONS // 2


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


@pytest.mark.parametrize("hidden", [1, 2, 3, 4])
def test_recompute_lowers_gd_steps_held_buffers(hidden):
    # NOTE: gd_step runs the forward and the backward in one call over buffers it reuses. The
    # plain step holds H + 1 m x n buffers (every A^[l], one dA scratch). Recompute holds the
    # kept A^[l] (even l), one buffer shared by the dropped ones (it also takes dA^[l] where it
    # is free) and, from three hidden layers on, the scratch: H // 2 + 2. A dropped A^[l] is
    # rebuilt a block of rows at a time, in the scratch where there is one, else in a block of
    # its own (a quarter of the batch here): H // 2 + 1 buffers and a block for one or two
    # hidden layers. Plus Z^[L] (m x 1) in both.
    from torchnn.nn import explicit

    m, n = 1024, 128  # above SERIAL_MACS: the torch kernels' workspace
    p = Problem("t", [32, *[n] * hidden, 1], m, "tanh")
    plain, ckpt = p.network(), p.network()
    plain.gd_step(p.x, p.y, 0.1)
    ckpt.gd_step(p.x, p.y, 0.1, recompute=True)

    def held(net):
        ws = explicit._WORKSPACES[net]
        return tape_bytes([*ws.outs, *ws.das[1:], *(() if ws.block is None else (ws.block,))])

    layer, z_out = F32 * m * n, F32 * m
    assert held(plain) == (hidden + 1) * layer + z_out
    if hidden >= 3:
        assert held(ckpt) == (hidden // 2 + 2) * layer + z_out
    else:
        assert explicit._WORKSPACES[ckpt].block_rows == m // 4
        assert held(ckpt) == (hidden // 2 + 1) * layer + layer // 4 + z_out
    assert held(ckpt) < held(plain)


@pytest.mark.parametrize("hidden", [1, 2, 3, 4])
@pytest.mark.parametrize("act,slope", [("tanh", 0.01), ("relu", 0.01), ("sigmoid", 0.01),
                                       ("leaky_relu", 0.1)])
def test_recompute_in_blocks_gives_the_same_step(hidden, act, slope):
    # m = 600: blocks of 456 and 144 rows (4,096 elements at least), so dW sums over parts
    torch.manual_seed(1)
    dims = [7, *[9 + 2 * k for k in range(hidden)], 1]
    x = torch.randn(600, 7, dtype=torch.float64)
    y = (torch.rand(600, 1) > 0.5).double()
    nets = [torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he",
                                dtype=torch.float64) for _ in range(4)]
    for net in nets[1:]:
        net.load_state_dict(nets[0].state_dict())
    plain, ckpt, plain_bp, ckpt_bp = nets
    for _ in range(3):
        j = plain.gd_step(x, y, 0.3)
        torch.testing.assert_close(ckpt.gd_step(x, y, 0.3, recompute=True), j,
                                   rtol=1e-13, atol=0)
    for qa, qb in zip(plain.parameters(), ckpt.parameters()):
        torch.testing.assert_close(qb, qa, rtol=1e-12, atol=1e-14)
    for _ in range(2):  # backprop accumulates: the second call adds onto the first's .grad
        plain_bp.backprop(x, y)
        ckpt_bp.backprop(x, y, recompute=True)
    for qa, qb in zip(plain_bp.parameters(), ckpt_bp.parameters()):
        torch.testing.assert_close(qb.grad, qa.grad, rtol=1e-12, atol=1e-14)


def test_workspace_bytes_hand_count_and_the_held_figure_in_the_report():
    from torchnn.bench.cli import run_cell
    from torchnn.nn.explicit import workspace_bytes

    m, n = 1024, 128
    p = Problem("t", [32, n, n, 1], m, "tanh")
    plain, ckpt = p.network(), p.network()
    assert workspace_bytes(plain) == 0  # nothing held before the first step
    plain.gd_step(p.x, p.y, 0.1)
    ckpt.gd_step(p.x, p.y, 0.1, recompute=True)
    layer, column = F32 * m * n, F32 * m  # an m x n buffer; Z^[L] or the ones vector (m x 1)
    assert workspace_bytes(plain) == 3 * layer + 2 * column  # A1, A2, the dA scratch
    assert workspace_bytes(ckpt) == 2 * layer + layer // 4 + 2 * column  # A2, shared, a block
    flower = Problem("f", [2, 4, 1], 400, "tanh").network()
    flower.gd_step(torch.randn(400, 2), torch.ones(400, 1), 0.1)
    assert workspace_bytes(flower) is None  # the numpy engine keeps arrays of its own

    cell = run_cell(p, ("explicit", "recompute"), 1, 0.0, [])
    act = F32 * m * (n + n + 1)
    assert cell["variants"]["explicit"]["held_ratio"] == (3 * layer + 2 * column) / act
    assert cell["variants"]["recompute"]["held_ratio"] == pytest.approx(
        (2.25 * layer + 2 * column) / act)
