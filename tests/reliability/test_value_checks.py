"""Where value checks run: once per data set in eager code, never under compile or torch.func."""

import copy
import pickle

import pytest
import torch

import torchnn


def _setup():
    net = torchnn.DeepNetwork([2, 4, 1], "tanh", generator=torch.Generator().manual_seed(0))
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(1))
    return net, x, (x[:, :1] * x[:, 1:] > 0).float()


def _count_validations(monkeypatch, net) -> list:
    calls = []
    original = net.validate_batch
    monkeypatch.setattr(net, "validate_batch", lambda x, y: (calls.append(1), original(x, y)))
    return calls


def test_value_checks_run_once_per_data_set(monkeypatch):
    net, x, y = _setup()
    calls = _count_validations(monkeypatch, net)
    for _ in range(5):
        net.backprop(x, y)
        net.cost(x, y)
    assert len(calls) == 1
    x2 = x.clone()
    net.backprop(x2, y)  # a new tensor is checked again
    assert len(calls) == 2
    net.backprop(x2, y, check_values=False)
    net.cost(x, y, check_values=False)
    assert len(calls) == 2


def test_in_place_change_of_the_data_is_checked_again():
    net, x, y = _setup()
    net.backprop(x, y)
    x[2, 1] = float("nan")  # bumps x._version: the cached verdict no longer applies
    msg = r"DeepNetwork: x contains 1 non-finite value\(s\) \(first: nan at index \(2, 1\)\)"
    with pytest.raises(ValueError, match=msg):
        net.backprop(x, y)
    y[0, 0] = 5.0
    x[2, 1] = 0.0
    with pytest.raises(ValueError, match=r"got 5\.0 at index \(0, 0\)"):
        net.cost(x, y)


def test_check_values_false_skips_value_checks():
    net, x, y = _setup()
    y[0, 0] = 3.0  # not a label: only the value checks would notice
    net.backprop(x, y, check_values=False)
    net.cost(x, y, check_values=False)


def test_inference_tensors_are_checked_every_time():
    net, x, y = _setup()
    with torch.inference_mode():
        xi, yi = x.clone(), y.clone()
    net.backprop(xi, yi)
    yi2 = yi.clone()
    with torch.inference_mode():
        yi2[0, 0] = 2.0
    with pytest.raises(ValueError, match="got 2.0"):
        net.backprop(xi, yi2)


def test_network_with_seen_data_pickles_and_copies():
    net, x, y = _setup()
    net.backprop(x, y)
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert not clone._seen.hit(x, y)  # a copy forgets: its first call checks again
        torch.testing.assert_close(clone.cost(x, y), net.cost(x, y))
        assert clone._seen.hit(x, y)


def test_seen_data_does_not_keep_the_data_alive():
    import weakref

    net, x, y = _setup()
    net.backprop(x, y)
    ref = weakref.ref(x)
    del x
    assert ref() is None


def test_compiled_cost_has_no_graph_break():
    # fullgraph=True fails on any graph break: the value checks must step aside while tracing
    net, x, y = _setup()
    compiled = torch.compile(net.cost, backend="eager", fullgraph=True)
    torch.testing.assert_close(compiled(x, y), net.cost(x, y))


def test_value_checks_step_aside_under_vmap():
    net, x, y = _setup()
    xs, ys = torch.stack([x, -x, 2 * x]), torch.stack([y, 1 - y, y])
    batched = torch.func.vmap(net.cost)(xs, ys)
    expected = torch.stack([net.cost(a, b) for a, b in zip(xs, ys)])
    torch.testing.assert_close(batched, expected)
