"""scripts/gpu_check.sh, the prepared run for a session lent a GPU, works before it is needed.

Device time is scarce (15 minutes a session, when one is lent at all), so the script that spends
it is checked here on the CPU: its dry run goes through every step with tiny sizes and must leave
the files the device tool can bring back (at most 8, none more than one folder down).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def _run(out: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), str(out)], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable, **env}, timeout=600,
                          cwd=ROOT)


@pytest.mark.slow
def test_dry_run_goes_through_every_step_and_leaves_what_the_device_tool_returns(tmp_path):
    out = tmp_path / "out"
    proc = _run(out, GPU_CHECK_DRY_RUN="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 step(s) failed" in proc.stdout
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["bench/bench.json", "bench/bench.log", "bench/bench.md", "env.txt",
                     "fit.log", "pytest.log", "summary-autograd-bf16.json",
                     "summary-explicit-fp32.json"]
    assert len(files) <= 8 and all(f.count("/") <= 1 for f in files)
    bench = json.loads((out / "bench" / "bench.json").read_text())
    assert [c["size"] for c in bench["results"]] == ["tiny", "tiny"]  # tanh and ReLU
    assert f"torch {torch.__version__}" in (out / "env.txt").read_text()
    for tag in ("explicit-fp32", "autograd-bf16"):
        summary = json.loads((out / f"summary-{tag}.json").read_text())
        assert summary["status"] == "complete" and summary["iterations"] == 200, summary
        assert 0.5 < summary["metrics"]["train/acc"] <= 1.0, summary


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_without_a_gpu_it_says_so_and_runs_nothing(tmp_path):
    proc = _run(tmp_path / "out")
    assert proc.returncode == 3
    assert "no CUDA device is visible" in proc.stderr
    assert not (tmp_path / "out" / "bench" / "bench.json").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_an_interpreter_without_torch_is_named(tmp_path):
    proc = _run(tmp_path / "out", PYTHON=str(tmp_path / "no-such-python"))
    assert proc.returncode == 3
    assert "cannot import torch" in proc.stderr and "no-such-python" in proc.stderr
