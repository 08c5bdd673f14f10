"""Collects the outcome of every transform test into a transform x Function table.

``TORCHNN_TRANSFORMS_TABLE=table.md python -m pytest tests/transforms`` writes the markdown
table that docs/transforms.md shows: a cell is ✓ when every test behind it
passed, ✗ when one failed, "skip" when all were skipped (CUDA without a GPU), "—" when no test
measures that pair.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

_ROWS = [
    "torch.func.vmap", "torch.func.grad", "torch.func.jacrev", "torch.func.jacfwd",
    "torch.func.hessian", "torch.func.jvp", "forward_ad dual tensors", "grad(grad) (2nd order)",
    "per-sample grads vmap(grad, in_dims=(None, 0, 0))", "check_function: all 14 checks",
    "torch.compile fullgraph (jvp-less class picked)", "compiled training step: 1 graph",
    "compiled step: ≤ 2 compiles over batch sizes", "compiled cost, backward outside (AOT)",
    "autocast cpu bf16", "autocast cuda fp16 / bf16", "Lightning precision=bf16-mixed",
    "every parameter gets a .grad", "1-process DDP, find_unused_parameters=False",
]
_COLUMNS = ["sigmoid", "tanh", "relu", "leaky_relu", "dense", "dense_activation",
            "dense_activation_pair",
            "dense_cross_entropy", "dense_network_cross_entropy", "bce_with_logits", "mse_loss",
            "DeepNetwork"]
_NET = "DeepNetwork"
_BY_TEST = {  # test function -> row, for tests of the whole network
    "test_per_sample_gradients_of_the_cost_equal_native": _ROWS[8],
    "test_network_second_derivative_in_the_weights_equals_native": "torch.func.hessian",
    "test_whole_step_is_one_graph_with_eager_gradients": _ROWS[11],
    "test_regression_step_is_one_graph": _ROWS[11],
    "test_explain_reports_one_graph_and_no_break": _ROWS[11],
    "test_inductor_step_matches_eager": _ROWS[11],
    "test_new_batch_sizes_compile_at_most_twice": _ROWS[12],
    "test_compiled_cost_with_backward_outside": _ROWS[13],
    "test_lightning_bf16_mixed_trains": _ROWS[16],
    "test_every_parameter_gets_a_gradient": _ROWS[17],
    "test_every_parameter_gets_a_gradient_from_zero_init": _ROWS[17],
    "test_networks_without_some_biases": _ROWS[17],
    "test_logistic_regression": _ROWS[17],
    "test_ddp_finds_no_unused_parameter": _ROWS[18],
}

_outcomes: dict[tuple[str, str], list[str]] = defaultdict(list)


def _column(params: dict) -> str | None:
    case = params.get("case")
    name = getattr(case, "name", None) or params.get("name")
    if name is None:
        return None
    return _NET if name.startswith(_NET) else name


def _cell(item) -> tuple[str, str] | None:
    """(row, column) of a test, or None for tests outside the table (the checker's own)."""
    name = item.originalname if hasattr(item, "originalname") else item.name
    params = item.callspec.params if hasattr(item, "callspec") else {}
    if name in _BY_TEST:
        return _BY_TEST[name], _NET
    if name == "test_network_under_autocast":
        return ("autocast cpu bf16" if params["device"] == "cpu" else _ROWS[15]), _NET
    column = _column(params)
    if column is None:
        return None
    if name == "test_transform_equals_native":
        t = params["transform"]
        return ("grad(grad) (2nd order)" if t == "grad(grad)" else f"torch.func.{t}"), column
    if name == "test_forward_ad_dual_tensors_equal_native":
        return "forward_ad dual tensors", column
    if name == "test_function_passes_every_check":
        return "check_function: all 14 checks", column
    if name == "test_eager_class_has_jvp_and_compiled_call_avoids_it":
        return _ROWS[10], column
    if name == "test_output_dtype_as_native_and_grads_in_input_dtype":
        return ("autocast cpu bf16" if params["device"] == "cpu" else _ROWS[15]), column
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.skipped):
        cell = _cell(item)
        if cell is not None:
            _outcomes[cell].append("skipped" if report.skipped else report.outcome)


def _mark(outcomes: list[str]) -> str:
    if not outcomes:
        return "—"  # not measured for this column (a network-level or per-Function row)
    if "failed" in outcomes:
        return "✗"
    if all(o == "skipped" for o in outcomes):
        return "skip"
    return "✓"


def transforms_table() -> str:
    lines = ["| transform | " + " | ".join(f"`{c}`" for c in _COLUMNS) + " |",
             "|---|" + "---|" * len(_COLUMNS)]
    for row in _ROWS:
        cells = [_mark(_outcomes.get((row, c), [])) for c in _COLUMNS]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("TORCHNN_TRANSFORMS_TABLE")
    if path and _outcomes:
        Path(path).write_text(transforms_table() + "\n", encoding="utf-8")
