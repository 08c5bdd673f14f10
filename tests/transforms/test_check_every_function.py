"""torchnn's own Functions and DeepNetwork pass every check of torchnn.testing.check_function
against their native PyTorch references (the table in docs/transforms.md comes from the same run:
``python -m torchnn.testing --table``)."""

import pytest

from tests.transforms.helpers import cases, ids
from torchnn.testing import CHECKS, PASS, check_function
from torchnn.testing.__main__ import markdown_table


@pytest.fixture(scope="module")
def reports():
    return {c.name: check_function(c.fn, *c.inputs, reference=c.reference, name=c.name)
            for c in cases()}


@pytest.mark.parametrize("name", ids())
def test_function_passes_every_check(reports, name):
    report = reports[name]
    assert report.passed, report
    assert [r.name for r in report.rows] == list(CHECKS)
    assert all(r.status == PASS for r in report.rows), report  # nothing n/a: all apply


def test_markdown_table_lists_every_check_and_function(reports):
    table = markdown_table(reports)
    lines = table.splitlines()
    assert len(lines) == 2 + len(CHECKS)
    assert all(f"`{n}`" in lines[0] for n in reports)
    assert "FAIL" not in table


def test_readme_checker_table_is_current(reports):
    from tests.transforms.test_readme_section import between

    assert between("checker-table") == markdown_table(reports)


def _with_reduction(ref):
    return lambda input, target, reduction: ref(input, target, reduction=reduction)


def _class_cases():
    """The jvp-less Function classes themselves (what compiled code runs), and the functional
    API's other arguments: a negative leaky slope (saves z, not a) and the other reductions."""
    import functools

    import torch
    import torch.nn.functional as TF

    from torchnn import functional as F

    gen = torch.Generator().manual_seed(5)
    z, y = torch.randn(3, 4, generator=gen), torch.rand(3, 4, generator=gen)
    t = torch.tensor([3, 0, 1])  # class indices of z (C = 4)
    w, b = torch.randn(2, 4, generator=gen), torch.randn(2, generator=gen)
    w2, b2 = torch.randn(3, 2, generator=gen), torch.randn(3, generator=gen)
    w3 = torch.randn(1, 3, generator=gen)
    bce, mse = _with_reduction(TF.binary_cross_entropy_with_logits), _with_reduction(TF.mse_loss)
    return [
        ("SigmoidFunction", F.SigmoidFunction, (z,), torch.sigmoid),
        ("TanhFunction", F.TanhFunction, (z,), torch.tanh),
        ("ReLUFunction", F.ReLUFunction, (z,), torch.relu),
        ("LeakyReLUFunction", F.LeakyReLUFunction, (z, 0.2), TF.leaky_relu),
        ("DenseFunction", F.DenseFunction, (z, w, b), TF.linear),
        *((f"DenseActivationFunction[{g}]", F.DenseActivationFunction, (z, w, b, g, 0.2),
           lambda z, w, b, g, s: TF.leaky_relu(TF.linear(z, w, b), s) if g == "leaky_relu"
           else getattr(torch, g)(TF.linear(z, w, b)))
          for g in ("sigmoid", "tanh", "relu", "leaky_relu")),
        ("DenseCrossEntropyFunction", F.DenseCrossEntropyFunction, (z, w, b, y[:, :2]),
         lambda z, w, b, y: TF.binary_cross_entropy_with_logits(TF.linear(z, w, b), y)),
        ("dense_cross_entropy(bias=None)", F.dense_cross_entropy, (z, w, None, y[:, :2]),
         lambda z, w, b, y: TF.binary_cross_entropy_with_logits(TF.linear(z, w, b), y)),
        *((f"dense_activation[{g}]", F.dense_activation, (z, w, b, g, -0.5),
           lambda z, w, b, g, s: TF.leaky_relu(TF.linear(z, w, b), s) if g == "leaky_relu"
           else TF.linear(z, w, b))
          for g in ("leaky_relu", "identity")),
        ("SigmoidCrossEntropyFunction", F.SigmoidCrossEntropyFunction, (z, y, "sum"), bce),
        ("SquaredErrorFunction", F.SquaredErrorFunction, (z, y, "none"), mse),
        ("leaky_relu(slope=-0.5)", F.leaky_relu, (z, -0.5), TF.leaky_relu),
        # C classes: the softmax output and the categorical cross-entropy
        ("SoftmaxFunction", F.SoftmaxFunction, (z, 0), TF.softmax),
        ("CrossEntropyFunction", F.CrossEntropyFunction, (z, t, "sum"),
         _with_reduction(TF.cross_entropy)),
        ("cross_entropy(probabilities, none)", _with_reduction(F.cross_entropy),
         (z, torch.softmax(y, -1), "none"), _with_reduction(TF.cross_entropy)),
        ("DenseSoftmaxCrossEntropyFunction", F.DenseSoftmaxCrossEntropyFunction,
         (z, w, b, torch.softmax(y[:, :2], -1)),
         lambda z, w, b, y: TF.cross_entropy(TF.linear(z, w, b), y)),
        ("dense_network_cross_entropy(softmax, leaky_relu 0.2, 3 layers)",
         functools.partial(F.dense_network_cross_entropy, activation="leaky_relu",
                           negative_slope=0.2, output="softmax"),
         (z, t.clamp(max=1), w, b, w2, b2, torch.randn(2, 3, generator=gen), None),
         lambda z, y, w, b, w2, b2, w3, b3: TF.cross_entropy(
             TF.linear(TF.leaky_relu(TF.linear(TF.leaky_relu(TF.linear(z, w, b), 0.2), w2, b2),
                                     0.2), w3, b3), y)),
        ("bce_with_logits(none)", _with_reduction(F.binary_cross_entropy_with_logits),
         (z, y, "none"), bce),
        ("dense(bias=None)", F.dense, (z, w, None), TF.linear),
        ("dense_network_cross_entropy(1 layer, bias=None)",
         functools.partial(F.dense_network_cross_entropy, activation="relu"),
         (z, y[:, :2], w, None), lambda z, y, w, b: TF.binary_cross_entropy_with_logits(
             TF.linear(z, w, b), y)),
        ("dense_network_cross_entropy(leaky_relu 0.2, 3 layers)",
         functools.partial(F.dense_network_cross_entropy, activation="leaky_relu",
                           negative_slope=0.2),
         (z, y[:, :1], w, b, w2, b2, w3, None),
         lambda z, y, w, b, w2, b2, w3, b3: TF.binary_cross_entropy_with_logits(
             TF.linear(TF.leaky_relu(TF.linear(TF.leaky_relu(TF.linear(z, w, b), 0.2), w2, b2),
                                     0.2), w3, b3), y)),
    ]


@pytest.mark.parametrize("name,fn,inputs,reference", _class_cases(),
                         ids=[c[0] for c in _class_cases()])
def test_function_classes_and_arguments(name, fn, inputs, reference):
    report = check_function(fn, *inputs, reference=reference, name=name)
    assert report.passed, report
    jvp_less = isinstance(fn, type)
    assert report["forward AD (jvp)"].status == ("n/a" if jvp_less else PASS)
    assert report["torch.compile fullgraph"].status == PASS
