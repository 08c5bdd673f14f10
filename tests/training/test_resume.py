"""Interruption: a SIGKILLed run resumes in its own folder and ends exactly as an uninterrupted
run; a corrupt checkpoint gives a clear error and leaves the run folder as it was."""

import json
import os
import signal
import subprocess
import time

import pytest
import torch

from tests.training.helpers import CONFIGS, last_weights, run_torchnn, torchnn_command
from torchnn.cli import main

ARGS = ["fit", "--config", str(CONFIGS / "flower.yaml"), "--trainer.max_epochs", "100",
        "--model.iterations_per_step", "50", "--trainer.enable_progress_bar", "false"]


def _snapshot(folder):
    return {p.relative_to(folder): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main([*ARGS, "--trainer.logger.init_args.name", "whole"])  # in-process: same numbers

    run = tmp_path / "runs" / "killed" / "version_0"
    proc = subprocess.Popen([*torchnn_command(), *ARGS, "--trainer.logger.init_args.name",
                             "killed"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not (run / "checkpoints" / "last.ckpt").is_file():
        assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # at once: 90 of 100 epochs are still to run
    assert proc.wait(timeout=30) == -signal.SIGKILL
    stopped = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert stopped["global_step"] < 5000, "the run ended before it was killed"
    assert not (run / "summary.json").exists()  # an interrupted run never looks complete

    resumed = run_torchnn(*ARGS, "--trainer.logger.init_args.name", "killed", "--ckpt_path",
                          "last", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "Restored all states" in resumed.stderr
    assert sorted(p.name for p in run.parent.iterdir()) == ["version_0"]  # the same folder
    reference = tmp_path / "runs" / "whole" / "version_0"
    a, b = last_weights(reference), last_weights(run)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (reference / "cost.csv").read_text() == (run / "cost.csv").read_text()
    summaries = [json.loads((r / "summary.json").read_text()) for r in (reference, run)]
    assert summaries[0]["metrics"] == summaries[1]["metrics"]
    assert summaries[1]["iterations"] == 5000


def test_corrupt_checkpoint_is_a_clear_error_and_leaves_the_run_intact(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.chdir(tmp_path)
    short = ["fit", "--config", str(CONFIGS / "flower.yaml"), "--trainer.max_epochs", "2",
             "--model.iterations_per_step", "10", "--trainer.enable_progress_bar", "false"]
    main(short)
    run = tmp_path / "runs" / "flower" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # truncated mid-write
    before = _snapshot(tmp_path)
    for ckpt in ("last", str(last)):
        with pytest.raises(SystemExit) as exit_:
            main([*short, "--ckpt_path", ckpt])
        err = capsys.readouterr().err
        assert exit_.value.code == 2
        assert "is truncated or corrupt" in err and "last.ckpt" in err, err
    missing = run / "checkpoints" / "nope.ckpt"
    with pytest.raises(SystemExit):
        main([*short, "--ckpt_path", str(missing)])
    assert "checkpoint file not found" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before  # nothing written, no new version folder


def test_resume_without_a_checkpoint_starts_a_new_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(CONFIGS / "flower.yaml"), "--trainer.max_epochs", "1",
          "--model.iterations_per_step", "5", "--trainer.enable_progress_bar", "false",
          "--ckpt_path", "last"])
    assert "no last checkpoint" in capsys.readouterr().err
    assert json.loads((tmp_path / "runs/flower/version_0/summary.json").read_text())[
        "iterations"] == 5
