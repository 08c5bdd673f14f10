"""One test per user error: the exception type, and a message naming what was got and expected."""

import re
import warnings

import pytest
import torch

import torchnn
from torchnn import functional as F
from torchnn.nn import ACTIVATIONS, validate_data


def _net(**kwargs) -> torchnn.DeepNetwork:
    return torchnn.DeepNetwork([2, 4, 1], "tanh", generator=torch.Generator().manual_seed(0),
                               **kwargs)


def _data(m: int = 8, n_x: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(m, n_x, generator=g)
    return x, (x[:, :1] > 0).float()


# every DeepNetwork entry point that takes data; ``check`` runs the value checks too
ENTRY_POINTS = {
    "forward": lambda net, x, y: net(x),
    "cost": lambda net, x, y: net.cost(x, y),
    "backprop": lambda net, x, y: net.backprop(x, y),
    "validate_batch": lambda net, x, y: net.validate_batch(x, y),
}
VALUE_ENTRY_POINTS = {k: v for k, v in ENTRY_POINTS.items() if k != "forward"}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_feature_count_mismatch_names_both_numbers(entry):
    x, y = _data(n_x=3)
    with pytest.raises(ValueError) as err:
        ENTRY_POINTS[entry](_net(), x, y)
    msg = str(err.value)
    assert "(8, 3)" in msg and "3 features" in msg and "n_x = 2" in msg and "(m, 2)" in msg


@pytest.mark.parametrize("entry", VALUE_ENTRY_POINTS)
@pytest.mark.parametrize("bad", [2.0, -1.0, 0.5])
def test_labels_outside_0_1_for_cross_entropy(entry, bad):
    x, y = _data()
    y[5, 0] = bad
    with pytest.raises(ValueError) as err:
        VALUE_ENTRY_POINTS[entry](_net(), x, y)
    msg = str(err.value)
    assert "{0, 1}" in msg and f"got {bad}" in msg and "index (5, 0)" in msg


def test_labels_outside_0_1_validate_data_lists_the_values():
    x, _ = _data()
    y = torch.tensor([0.0, 1.0, 3.0, 3.0, 7.0, 1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"got 3\.0 at index \(2,\).*\[3\.0, 7\.0\]"):
        validate_data(x, y, task="binary")
    validate_data(x, y, task="regression")  # any finite target is a valid regression target


def test_regression_network_accepts_any_finite_target():
    net = torchnn.DeepNetwork([2, 3, 1], "relu", "identity")
    x, _ = _data()
    net.cost(x, torch.full((8, 1), 7.5))  # no label check for the squared-error cost


@pytest.mark.parametrize("entry", VALUE_ENTRY_POINTS)
@pytest.mark.parametrize("where,bad", [("x", float("nan")), ("x", float("inf")),
                                       ("y", float("nan")), ("x", float("-inf"))])
def test_nan_or_inf_in_data(entry, where, bad):
    x, y = _data()
    (x if where == "x" else y)[3, 0] = bad
    with pytest.raises(ValueError) as err:
        VALUE_ENTRY_POINTS[entry](_net(), x, y)
    msg = str(err.value)
    assert f"{where} contains 1 non-finite value" in msg and "index (3, 0)" in msg
    assert str(bad) in msg and "expected only finite numbers" in msg


def test_nan_in_data_module_path():
    data = pytest.importorskip("torchnn.data")
    X, y = data.make_flower()
    X[7, 1] = float("nan")
    with pytest.raises(ValueError, match=r"non-finite value nan at index \(7, 1\)"):
        data.TabularDataModule(X, y, task="binary")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_empty_data(entry):
    x, y = torch.empty(0, 2), torch.empty(0, 1)
    with pytest.raises(ValueError) as err:
        ENTRY_POINTS[entry](_net(), x, y)
    msg = str(err.value)
    assert "empty" in msg and "(0, 2)" in msg and "m = 0" in msg and "m >= 1" in msg


def test_empty_data_validate_data():
    with pytest.raises(ValueError, match=r"x is empty \(shape \(0, 3\)\).*m >= 1"):
        validate_data(torch.empty(0, 3))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_integer_or_boolean_input_to_network(dtype):
    x = torch.ones(4, 2, dtype=dtype)
    with pytest.raises(TypeError) as err:
        _net()(x)
    msg = str(err.value)
    assert f"dtype {dtype}" in msg and "floating-point" in msg and "torch.float32" in msg


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "relu", "leaky_relu", "dense", "bce", "mse"])
@pytest.mark.parametrize("dtype", [torch.int64, torch.bool])
def test_integer_or_boolean_input_to_functional(op, dtype):
    x = torch.ones(3, 2, dtype=dtype)
    call = {
        "sigmoid": lambda: F.sigmoid(x), "tanh": lambda: F.tanh(x), "relu": lambda: F.relu(x),
        "leaky_relu": lambda: F.leaky_relu(x, 0.1), "dense": lambda: F.dense(x, torch.ones(1, 2)),
        "bce": lambda: F.binary_cross_entropy_with_logits(x, torch.ones(3, 2)),
        "mse": lambda: F.mse_loss(x, torch.ones(3, 2)),
    }[op]
    with pytest.raises(TypeError) as err:
        call()
    assert f"input has dtype {dtype}" in str(err.value) and "floating-point" in str(err.value)


def test_integer_labels_are_accepted_and_cast():
    x, y = _data()
    net = _net()
    expected, expected_explicit = net.cost(x, y), net.backprop(x, y)
    # NOTE: the explicit J comes from the numpy engine on a network this small: within float32
    # rounding of the autograd cost, and bit for bit what float labels give on the same path
    torch.testing.assert_close(expected_explicit, expected.detach(), rtol=1e-6, atol=0)
    for labels in (y.long(), y.bool(), y[:, 0].long()):
        torch.testing.assert_close(net.cost(x, labels), expected, rtol=0, atol=0)
        torch.testing.assert_close(net.backprop(x, labels), expected_explicit, rtol=0, atol=0)


@pytest.mark.parametrize("dims", [[], [2], (3,), "21", None, 5])
def test_layer_dims_with_fewer_than_two_entries(dims):
    with pytest.raises(ValueError) as err:
        torchnn.DeepNetwork(dims)
    msg = str(err.value)
    assert "at least two sizes" in msg and f"got {dims!r}" in msg


@pytest.mark.parametrize("dims,index,bad", [([2, 0, 1], 1, 0), ([2, 4, -3], 2, -3),
                                            ([0, 1], 0, 0), ([2, 2.5, 1], 1, 2.5),
                                            ([2, True, 1], 1, True)])
def test_layer_dims_non_positive_size(dims, index, bad):
    with pytest.raises(ValueError) as err:
        torchnn.DeepNetwork(dims)
    msg = str(err.value)
    assert f"layer_dims[{index}] must be a positive int, got {bad!r}" in msg and str(dims) in msg


@pytest.mark.parametrize("kind", ["hidden_activation", "output_activation"])
def test_unknown_activation_lists_the_valid_ones(kind):
    with pytest.raises(ValueError) as err:
        torchnn.DeepNetwork([2, 4, 1], **{kind: "swish"})
    msg = str(err.value)
    assert f"unknown {kind} 'swish'" in msg
    valid = ACTIVATIONS if kind == "hidden_activation" else ("sigmoid", "identity", "relu")
    assert all(repr(name) in msg for name in valid)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_input_on_another_device(entry):
    # NOTE: the meta device stands in for a GPU on CPU-only machines: same check, same message
    x, y = torch.empty(8, 2, device="meta"), torch.empty(8, 1, device="meta")
    with pytest.raises(ValueError) as err:
        ENTRY_POINTS[entry](_net(), x, y)
    msg = str(err.value)
    assert "input x is on meta but the parameters are on cpu" in msg and "x.to('cpu')" in msg


def test_target_on_another_device():
    x, _ = _data()
    with pytest.raises(ValueError, match="target y is on meta but the parameters are on cpu"):
        _net().cost(x, torch.empty(8, 1, device="meta"))


@pytest.mark.cuda
def test_input_on_cuda_with_parameters_on_cpu():
    x, y = _data()
    with pytest.raises(ValueError, match=r"input x is on cuda:0 but the parameters are on cpu"):
        _net().backprop(x.cuda(), y.cuda())


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_input_of_another_dtype(entry):
    x, y = _data()
    with pytest.raises(TypeError) as err:
        ENTRY_POINTS[entry](_net(), x.double(), y)
    msg = str(err.value)
    assert "input x has dtype torch.float64 but the parameters are torch.float32" in msg
    assert "x.to(torch.float32)" in msg


def test_functional_dense_other_device_or_dtype():
    w, b = torch.ones(3, 2), torch.zeros(3)
    with pytest.raises(ValueError, match="input is on meta but weight is on cpu"):
        F.dense(torch.empty(4, 2, device="meta"), w, b)
    with pytest.raises(ValueError, match="bias is on meta but weight is on cpu"):
        F.dense(torch.ones(4, 2), w, torch.empty(3, device="meta"))
    with pytest.raises(TypeError, match=r"input has dtype torch.float64 but weight has dtype "
                                        r"torch.float32.*input.to\(torch.float32\)"):
        F.dense(torch.ones(4, 2, dtype=torch.float64), w, b)
    with pytest.raises(ValueError, match="target is on meta but input is on cpu"):
        F.binary_cross_entropy_with_logits(torch.ones(3), torch.empty(3, device="meta"))


def test_autocast_still_allows_mixed_dtypes():
    x, y = _data()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        j = _net().cost(x.bfloat16(), y)
    assert torch.isfinite(j)


def test_non_tensor_input():
    with pytest.raises(TypeError, match="expected input x as a torch.Tensor, got list"):
        _net()([[1.0, 2.0]])
    with pytest.raises(TypeError, match="expected target y as a torch.Tensor, got list"):
        _net().backprop(torch.ones(1, 2), [1.0])


@pytest.mark.filterwarnings("ignore:.*the features reach max:UserWarning")
def test_non_finite_cost_is_a_floating_point_error_before_any_gradient():
    net = torchnn.DeepNetwork([2, 4, 1], "relu", init="he",
                              generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1e20)  # Z^[L] overflows float32
    x, y = _data()
    x = x * 1e6
    for call in (lambda: net.backprop(x, y), lambda: net.cost(x, y)):
        with pytest.raises(FloatingPointError) as err:
            call()
        msg = str(err.value)
        assert re.search(r"the cost J is (nan|inf)", msg) and "expected a finite number" in msg
        assert re.search(r"max \|x\| = \d\.\d+e\+06", msg) and "Standardise" in msg
    assert all(p.grad is None for p in net.parameters())  # raised before writing gradients


def test_unscaled_features_warn_once_per_data_set():
    x, y = _data()
    net = _net()
    with pytest.warns(UserWarning, match=r"max \|x\| = 5e\+03.*expected values of order 1"):
        x[0, 0] = 5e3
        net.cost(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.cost(x, y)  # the same data: checked (and warned about) once


@pytest.mark.parametrize("y,got", [(torch.zeros(5), "5 rows"), (torch.tensor(1.0), "a 0-d")])
def test_validate_data_row_count_mismatch(y, got):
    with pytest.raises(ValueError, match=f"x has 8 rows but y is {got}.*one label per row"):
        validate_data(torch.ones(8, 2), y)
