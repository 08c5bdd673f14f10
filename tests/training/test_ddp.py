"""Data parallelism on CPU: 2 processes on half the batch each = one process on the full batch."""

import subprocess
import sys
from pathlib import Path

import lightning.pytorch as L
import pytest
import torch
from torch.multiprocessing.spawn import ProcessExitedException

from tests.training.helpers import ROOT, flower_data, flower_module, quick_trainer


class SaveGradients(L.Callback):
    """Each rank saves its (all-reduced) gradients after the first step into ``folder``."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        grads = [p.grad.detach().clone() for p in pl_module.parameters()]
        torch.save(grads, Path(self.folder) / f"grads_rank{trainer.global_rank}.pt")


@pytest.mark.slow
def test_ddp_spawn_gradients_equal_the_full_batch_gradients(tmp_path):
    """The explicit path, whose gradients the module all-reduces itself (the script checks
    autograd too)."""
    backward = "explicit"
    module = flower_module(backward=backward, iterations_per_step=1)
    reference = flower_module(backward=backward, iterations_per_step=1)
    x, y = flower_data().full_train_tensors()
    reference.net.zero_grad()
    reference.net.cost(x, y).backward()  # full batch, one process
    expected = [p.grad for p in reference.parameters()]

    for attempt in range(2):
        trainer = quick_trainer(max_steps=1, devices=2, strategy="ddp_spawn",
                                limit_val_batches=0, callbacks=[SaveGradients(str(tmp_path))])
        try:
            trainer.fit(module, flower_data())
            break
        except ProcessExitedException as exc:
            # NOTE: now and then a spawned worker aborts while gloo shuts down after the run
            # ("terminate called without an active exception", SIGABRT; Lightning's own spawn
            # tests flake the same way, Lightning-AI/pytorch-lightning#20620): run it once more.
            # A wrong result fails on both attempts.
            if attempt or "SIGABRT" not in str(exc):
                raise
    for rank in (0, 1):
        grads = torch.load(tmp_path / f"grads_rank{rank}.pt", weights_only=True)
        assert len(grads) == len(expected) == 4  # every parameter got a gradient
        for got, want in zip(grads, expected):
            assert got.abs().sum() > 0
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    # ddp_spawn copies rank 0's weights back: the first step equals the full-batch step
    for p, g, q in zip(reference.parameters(), expected, module.parameters()):
        torch.testing.assert_close(q.detach(), (p - 1.2 * g).detach(), rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_ddp_script_follows_the_single_process_trajectory():
    command = [sys.executable, str(ROOT / "scripts" / "ddp_check.py"), "--epochs", "2",
               "--iterations", "10"]
    for _ in range(2):  # NOTE: once more only if another job took the rendezvous port
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
        if done.returncode == 0 or "ddress already in use" not in done.stderr:
            break
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.count("OK") == 4, done.stdout  # sigmoid and softmax, both backwards
