"""torchnn.testing.check_function: passes correct Functions, and names the check that catches
each classic mistake (tests/transforms/broken.py)."""

import pytest
import torch
import torch.nn.functional as TF

from tests.transforms import broken
from torchnn.testing import FAIL, NA, PASS, CheckFailed, CheckReport, check_function

# compile is the slow row; the broken-Function tests skip it unless it is what they test
NO_COMPILE = ("torch.compile fullgraph",)


@pytest.fixture(scope="module")
def x():
    return torch.randn(3, 4, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def wb():
    gen = torch.Generator().manual_seed(1)
    return torch.randn(2, 4, generator=gen), torch.randn(2, generator=gen)


def failed(report: CheckReport) -> set[str]:
    return {r.name for r in report.failures}


def test_correct_function_with_jvp_passes_all_but_compile(x):
    report = check_function(broken.GoodSigmoid, x, reference=torch.sigmoid)
    assert failed(report) == {"torch.compile fullgraph"}, report
    # (Dynamo's own words for the break: "... custom jvp ..." on 2.13, "User defind jvp" on 2.6)
    assert "jvp" in report["torch.compile fullgraph"].reason
    assert report["forward AD (jvp)"].status == PASS


def test_correct_function_without_jvp_passes(x):
    report = check_function(broken.GoodSigmoidNoJvp, x, reference=torch.sigmoid, strict=True)
    assert report.passed
    assert report["forward AD (jvp)"].status == NA
    assert report["torch.compile fullgraph"].reason.startswith("1 graph, 0 breaks")


def test_plain_callable_without_reference(x):
    report = check_function(lambda z: torch.sigmoid(z) * z, x, skip=NO_COMPILE)
    assert report.passed, report
    assert report["values vs reference"].status == NA
    assert report["backward: raw grad shapes"].status == NA  # no custom Function inside


def test_wrong_derivative_is_caught(x):
    report = check_function(broken.ForgetfulSigmoid, x, reference=torch.sigmoid, skip=NO_COMPILE)
    assert {"gradcheck (backward)", "grad(grad) vs finite diff", "grads vs reference"} <= \
        failed(report)
    assert "Jacobian mismatch" in report["gradcheck (backward)"].reason
    assert report["values vs reference"].status == PASS  # the forward is right


def test_keepdim_bias_gradient_is_caught_only_by_the_raw_shape_check(x, wb):
    # autocast is skipped: a @ w.t() + b differs from F.linear there (the last test)
    report = check_function(broken.KeepdimBiasDense, x, *wb, reference=TF.linear,
                            skip=NO_COMPILE + ("autocast",))
    assert failed(report) == {"backward: raw grad shapes"}, report
    assert "(1, 2)" in report["backward: raw grad shapes"].reason
    assert "expected (2,)" in report["backward: raw grad shapes"].reason


def test_raw_shapes_map_gradients_past_a_non_tensor_argument(x, wb):
    # backward returns (dA, None, dW, db) for (a, 2.0, w, b); next_functions has three edges
    def ref(a, s, w, b):
        return TF.linear(a, w, b) * s

    good = check_function(broken.ScaledDense, x, 2.0, *wb, reference=ref,
                          skip=NO_COMPILE + ("autocast",))
    assert good["backward: raw grad shapes"].status == PASS, good
    bad = check_function(broken.KeepdimScaledDense, x, 2.0, *wb, reference=ref,
                         skip=NO_COMPILE + ("autocast",))
    assert failed(bad) == {"backward: raw grad shapes"}, bad
    reason = bad["backward: raw grad shapes"].reason
    assert "(1, 2) for input 3" in reason and "expected (2,)" in reason


def test_scalar_bias_gradient_is_caught(x, wb):
    report = check_function(broken.ScalarBiasDense, x, *wb, skip=NO_COMPILE)
    assert {"backward: raw grad shapes", "gradcheck (backward)"} <= failed(report)
    assert "shape ()" in report["backward: raw grad shapes"].reason


def test_forward_overwriting_a_saved_tensor_is_caught(x):
    report = check_function(broken.ForwardMutatesSigmoid, x, reference=broken.half_tanh,
                            skip=NO_COMPILE)
    assert {"gradcheck (backward)", "grads vs reference"} <= failed(report)
    assert report["values vs reference"].status == PASS


def test_backward_overwriting_a_saved_tensor_is_caught(x):
    report = check_function(broken.BackwardMutatesSigmoid, x, skip=NO_COMPILE)
    assert {"gradcheck (backward)", "saved tensors"} <= failed(report)
    assert "modified by an inplace operation" in report["gradcheck (backward)"].reason


def test_backward_overwriting_grad_output_is_caught(x):
    report = check_function(broken.GradOutputMutatesSigmoid, x, reference=torch.sigmoid,
                            skip=NO_COMPILE)
    assert "grad_output untouched" in failed(report), report
    assert report["gradcheck (backward)"].status == PASS  # the values are right


def test_missing_vmap_support_is_caught(x):
    report = check_function(broken.NoVmapSigmoid, x, reference=torch.sigmoid, skip=NO_COMPILE)
    assert failed(report) == {"vmap vs loop", "vmap(grad) per-sample"}, report
    assert "vmap" in report["vmap vs loop"].reason


def test_once_differentiable_silent_zeros_are_caught(x):
    report = check_function(broken.OnceSigmoid, x, reference=torch.sigmoid, skip=NO_COMPILE)
    assert {"grad(grad) vs finite diff", "gradgradcheck", "grads vs reference"} <= failed(report)
    assert "once_differentiable" in report["grad(grad) vs finite diff"].reason


def test_autocast_dtype_difference_is_reported(x, wb):
    # a @ w.t() + b: the bf16 product is promoted back to float32 by the float32 bias, while
    # F.linear returns bfloat16: the checker reports the dtype difference
    report = check_function(broken.GoodDense, x, *wb, reference=TF.linear, skip=NO_COMPILE)
    assert failed(report) == {"autocast"}, report
    assert "bfloat16" in report["autocast"].reason


def test_strict_raises_with_the_report(x):
    with pytest.raises(CheckFailed) as info:
        check_function(broken.ForgetfulSigmoid, x, strict=True, skip=NO_COMPILE)
    assert isinstance(info.value, AssertionError)
    assert info.value.report.failures
    assert "FAIL" in str(info.value)


def test_report_table_and_accessors(x):
    report = check_function(broken.ForgetfulSigmoid, x, skip=NO_COMPILE)
    text = str(report)
    assert text.splitlines()[0].startswith("check_function(ForgetfulSigmoid):")
    assert all(r.name in text for r in report.rows)
    assert report.status()["torch.compile fullgraph"] == NA
    assert all(r.status == FAIL for r in report.failures)
    assert not report.passed
    with pytest.raises(KeyError, match="no check named"):
        report["nope"]


def test_bad_arguments_name_what_they_got(x):
    with pytest.raises(ValueError, match="unknown checks in skip: \\['vmapp'\\]"):
        check_function(torch.sigmoid, x, skip="vmapp")
    with pytest.raises(ValueError, match="grad_inputs"):
        check_function(torch.sigmoid, x, grad_inputs=(1,))
    with pytest.raises(TypeError, match="callable"):
        check_function(3, x)


@pytest.mark.cuda
def test_checker_on_cuda_inputs(x, wb):
    from torchnn import functional as F

    report = check_function(F.dense, x.cuda(), *(t.cuda() for t in wb), reference=TF.linear)
    assert report.passed, report
    assert report["autocast"].reason.startswith("cuda float16")
