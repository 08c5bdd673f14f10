"""The saved-for-backward accounting against a hand count, and the recompute mode."""

import pytest
import torch

import torchnn
from torchnn.bench.cli import memory_table, run_cell
from torchnn.bench.measure import saved_bytes
from torchnn.bench.variants import Problem, build_variants
from torchnn.nn.backprop import dropped_layers

# [3, 5, 4, 1], m = 8, float32: A^[1] 8x5, A^[2] 8x4, Z^[3] 8x1 -> 4 * 8 * (5 + 4 + 1) = 320 B
DIMS, M, F32 = [3, 5, 4, 1], 8, 4
ACTIVATIONS = 4 * 8 * (5 + 4 + 1)


def _saved(name, act="tanh"):
    v = build_variants(Problem("hand", DIMS, M, act), (name,))[name]
    return saved_bytes(v.forward, v.exclude)


def test_activation_bytes_hand_count():
    assert Problem("hand", DIMS, M).activation_bytes == ACTIVATIONS == 320


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_torchnn_autograd_per_layer_saved_bytes_hand_count(act):
    act_bytes, total = _saved("autograd-layers", act)
    # saved: A1, A2 (each once, though two Functions save them)                 -> 288 B
    # (the output layer's Function recomputes the 8x1 Z3 from A2 in its backward)
    # plus, not activations: x (layer 1's dW) 8x3, W2 4x5, W3 1x4, b3 1, y 8x1  -> 228 B
    assert act_bytes == 288 < ACTIVATIONS
    assert total == 288 + F32 * (8 * 3 + 4 * 5 + 1 * 4 + 1 + 8 * 1)


def test_autograd_one_node_saved_bytes_hand_count():
    act, total = _saved("autograd")  # DeepNetwork's default graph
    # one DenseNetworkFunction saves A1 and A2 and recomputes the 8x1 Z3: the per-layer
    # graph's activations, and besides them x, every parameter and y
    assert act == 288 < ACTIVATIONS
    assert total == 288 + F32 * (8 * 3 + 5 * 3 + 5 + 4 * 5 + 4 + 1 * 4 + 1 + 8 * 1)


def test_autograd_recompute_saved_bytes_hand_count():
    # one DenseActivationPairFunction for layers 1-2 saves x and A2 (A1 is rebuilt in its
    # backward), the output layer's Function A2 again (the same storage): A2 8x4 alone
    assert _saved("autograd-recompute")[0] == F32 * 8 * 4 == 128 <= ACTIVATIONS // 2


def test_torch_nn_leaky_relu_saves_twice_hand_count():
    # LeakyReLU saves its input Z, the next Linear saves the output A: Z1, A1, Z2, A2, Z3
    assert _saved("torch.nn", "leaky_relu")[0] == F32 * 8 * (5 + 5 + 4 + 4 + 1)


def test_bare_function_floor_saves_what_torchnn_saves():
    assert _saved("bare-fn")[0] == 288


def test_memory_table_ratios():
    rows = memory_table("3-5-4-1@8", "cpu")
    assert [r["activation"] for r in rows] == ["sigmoid", "tanh", "relu", "leaky_relu"]
    for row in rows:
        r = row["ratios"]
        assert r["autograd"] == r["autograd-layers"] == 288 / 320
        assert r["autograd-recompute"] == 128 / 320
        # torch.nn: every A^[l] and Z^[3]; with LeakyReLU each Z^[l] too (1.9x here, 2.0x as
        # the hidden layers outgrow Z^[L])
        leaky = row["activation"] == "leaky_relu"
        assert r["torch.nn"] == (F32 * 8 * (5 + 5 + 4 + 4 + 1) if leaky else 320) / 320


def test_run_cell_reports_saved_and_held_bytes():
    p = Problem("hand", DIMS, M, "tanh")
    cell = run_cell(p, ("explicit", "autograd", "torch.nn", "numpy"), 1, 0.0, [])
    v = cell["variants"]
    assert v["autograd"]["saved_ratio"] == 288 / 320
    assert v["explicit"]["saved_ratio"] is None and v["numpy"]["saved_ratio"] is None
    # gd_step's workspace: dW, db as the parameters, Z^[l] (m x n[l]) and dA^[l] (m x n[l], l < L)
    params = 3 * 5 + 5 + 5 * 4 + 4 + 4 * 1 + 1
    assert v["explicit"]["held_bytes"] == F32 * (params + M * (5 + 4 + 1) + M * (5 + 4))
    assert "held_bytes" not in v["autograd"]
    assert v["torch.nn"]["speedup"] == 1.0


def test_dropped_layers_are_odd_hidden_layers():
    assert dropped_layers(5, True) == {1, 3}
    assert dropped_layers(2, True) == {1}
    assert dropped_layers(1, True) == frozenset()
    assert dropped_layers(5, False) == frozenset()


@pytest.mark.parametrize("act,slope", [("tanh", 0.01), ("relu", 0.01), ("sigmoid", 0.01),
                                       ("leaky_relu", 0.01), ("leaky_relu", -0.5)])
def test_recompute_gives_the_same_gradients(act, slope):
    torch.manual_seed(0)
    dims = [6, 9, 7, 5, 3, 1]
    x = torch.randn(13, 6, dtype=torch.float64)
    y = (torch.rand(13, 1) > 0.5).double()
    a = torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he", dtype=torch.float64)
    b = torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he", dtype=torch.float64,
                            recompute=True)
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a.backprop(x, y), b.backprop(x, y), rtol=0, atol=0)
    for qa, qb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(qa.grad, qb.grad, rtol=0, atol=1e-15)
    # and autograd agrees with both
    c = torchnn.DeepNetwork(dims, act, negative_slope=slope, dtype=torch.float64)
    c.load_state_dict(a.state_dict())
    c.cost(x, y).backward()
    for qa, qc in zip(a.parameters(), c.parameters()):
        torch.testing.assert_close(qa.grad, qc.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("hidden", [1, 2, 3, 4])
@pytest.mark.parametrize("act,slope", [("tanh", 0.01), ("relu", 0.01), ("sigmoid", 0.01),
                                       ("leaky_relu", 0.1)])
def test_recompute_gives_the_same_steps(hidden, act, slope):
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
