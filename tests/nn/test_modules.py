"""Dense, the activation modules, init and LogisticRegression against torch.nn."""

import math

import pytest
import torch
from torch import nn
from torch.func import functional_call

import torchnn
from tests.parity import DEVICES, FLOAT_DTYPES, assert_parity
from torchnn import init as tinit


def _linear_pair(n_in, n_out, bias, dtype=torch.float64, device="cpu"):
    dense = torchnn.Dense(n_in, n_out, bias=bias, init="he", dtype=dtype, device=device)
    lin = nn.Linear(n_in, n_out, bias=bias, dtype=dtype, device=device)
    lin.load_state_dict(dense.state_dict())
    if bias:
        with torch.no_grad():
            dense.bias.normal_()  # non-zero, so the bias term is exercised
        lin.load_state_dict(dense.state_dict())
    return dense, lin


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("in_shape", [(7, 4), (1, 4), (3, 2, 4)], ids=str)
def test_dense_matches_nn_linear(in_shape, bias, dtype, device):
    dense, lin = _linear_pair(4, 3, bias, dtype, device)
    params = dict(dense.named_parameters())
    names = list(params)

    def call(module):
        return lambda x, *ps: functional_call(module, dict(zip(names, ps)), (x,))

    x = torch.randn(in_shape, dtype=torch.float64)
    assert_parity(call(dense), call(lin), x, *params.values(), dtype=dtype, device=device)


@pytest.mark.parametrize("bias", [True, False])
def test_dense_parameters_are_named_and_shaped_like_nn_linear(bias):
    dense, lin = torchnn.Dense(5, 3, bias=bias), nn.Linear(5, 3, bias=bias)
    assert [(n, p.shape) for n, p in dense.named_parameters()] == [
        (n, p.shape) for n, p in lin.named_parameters()
    ]
    assert dense.weight.shape == (3, 5)  # the seed's (n[l], n[l-1])
    assert (dense.bias is None) == (not bias)


@pytest.mark.parametrize("bias", [True, False])
def test_dense_state_dict_interchanges_with_nn_linear(bias):
    x = torch.randn(6, 5)
    lin = nn.Linear(5, 3, bias=bias)
    dense = torchnn.Dense(5, 3, bias=bias)
    dense.load_state_dict(lin.state_dict())  # nn.Linear -> Dense (strict)
    torch.testing.assert_close(dense(x), lin(x))
    with torch.no_grad():
        dense.weight.mul_(2)
    lin.load_state_dict(dense.state_dict())  # Dense -> nn.Linear (strict)
    torch.testing.assert_close(lin(x), dense(x))


def test_dense_repr_and_errors():
    assert "in_features=5, out_features=3, bias=False" in repr(torchnn.Dense(5, 3, bias=False))
    with pytest.raises(ValueError, match="'uniform'"):
        torchnn.Dense(5, 3, init="uniform")
    with pytest.raises(ValueError, match="in_features.*0"):
        torchnn.Dense(0, 3)


ACTIVATION_MODULES = [
    (torchnn.Sigmoid(), nn.Sigmoid()),
    (torchnn.Tanh(), nn.Tanh()),
    (torchnn.ReLU(), nn.ReLU()),
    (torchnn.Identity(), nn.Identity()),
] + [(torchnn.LeakyReLU(s), nn.LeakyReLU(s)) for s in (0.01, 0.0, 0.2, 1.0, -0.5, 2.0)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mod, ref", ACTIVATION_MODULES, ids=repr)
def test_activation_module_matches_nn(mod, ref, dtype):
    assert_parity(mod, ref, 3 * torch.randn(6, 4, dtype=torch.float64), dtype=dtype)


def test_leaky_relu_module_default_and_repr():
    assert torchnn.LeakyReLU().negative_slope == 0.01 == nn.LeakyReLU().negative_slope
    assert "negative_slope=0.2" in repr(torchnn.LeakyReLU(0.2))


# ------------------------------------------------------------------------------------------------
# initialisation (seed §2.4)
# ------------------------------------------------------------------------------------------------

SHAPE = (600, 400)  # 240 000 draws: the sample std is within ~0.3 % of the true one


@pytest.mark.parametrize(
    "init, kwargs, std",
    [
        ("small", {}, 0.01),
        ("small", {"init_scale": 0.1}, 0.1),
        ("small", {"init_scale": 1e-3}, 1e-3),
        ("he", {}, math.sqrt(2 / SHAPE[1])),
        ("xavier", {}, math.sqrt(2 / (SHAPE[0] + SHAPE[1]))),
    ],
)
def test_init_weight_std(init, kwargs, std):
    layer = torchnn.Dense(SHAPE[1], SHAPE[0], init=init, dtype=torch.float64, **kwargs)
    w = layer.weight.detach()
    assert w.std().item() == pytest.approx(std, rel=0.02)
    assert abs(w.mean().item()) < 0.02 * std
    assert torch.equal(layer.bias, torch.zeros(SHAPE[0], dtype=torch.float64))  # b = 0


def test_init_functions_match_torch_init_formulas():
    g = torch.Generator().manual_seed(0)
    w = torch.empty(SHAPE, dtype=torch.float64)
    assert tinit.xavier_normal_(w, generator=g).std().item() == pytest.approx(
        nn.init.xavier_normal_(w.clone()).std().item(), rel=0.02
    )
    he_torch = nn.init.kaiming_normal_(w.clone(), nonlinearity="relu").std().item()
    assert tinit.he_normal_(w, generator=g).std().item() == pytest.approx(he_torch, rel=0.02)
    assert torch.equal(tinit.zeros_(w), torch.zeros(SHAPE, dtype=torch.float64))


def test_init_zeros_scheme():
    assert not torchnn.Dense(4, 3, init="zeros").weight.any()


@pytest.mark.parametrize("init", ["small", "he", "xavier"])
def test_init_generator_gives_reproducible_weights(init):
    def make(seed):
        return torchnn.DeepNetwork([4, 5, 3, 1], init=init,
                                   generator=torch.Generator().manual_seed(seed))

    a, b, c = make(0), make(0), make(1)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
        if pa.dim() == 2:
            assert not torch.equal(pa, pc)
    layer1 = torchnn.Dense(4, 3, generator=torch.Generator().manual_seed(7))
    layer2 = torchnn.Dense(4, 3)
    layer2.reset_parameters(torch.Generator().manual_seed(7))
    assert torch.equal(layer1.weight, layer2.weight)


# ------------------------------------------------------------------------------------------------
# LogisticRegression (chapter 1)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 17])
def test_logistic_regression_shapes(m):
    lr = torchnn.LogisticRegression(3)
    assert lr.num_layers == 1
    assert lr.layers[0].weight.shape == (1, 3)  # wᵀ
    assert lr.layers[0].bias.shape == (1,)  # b
    x = torch.randn(m, 3)
    a = lr(x)
    assert a.shape == (m, 1) and ((a > 0) & (a < 1)).all()
    assert set(lr.predict(x).unique().tolist()) <= {0.0, 1.0}
    w, b = lr.layers[0].weight, lr.layers[0].bias
    torch.testing.assert_close(a, torch.sigmoid(x @ w.T + b))  # ŷ = σ(wᵀx + b)
