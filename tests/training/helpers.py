"""Shared helpers for the training tests: a small Trainer, the console entry point, run folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import lightning.pytorch as L
import torch

from torchnn.data import FlowerDataModule
from torchnn.training import DeepNetworkModule

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
QUIET = ["--trainer.enable_progress_bar", "false"]  # command-line runs without a progress bar


def torchnn_command() -> list[str]:
    """The installed ``torchnn`` console script (next to this Python), or ``python -m``."""
    script = Path(sys.executable).with_name("torchnn")
    if script.is_file():
        return [str(script)]
    found = shutil.which("torchnn")
    return [found] if found else [sys.executable, "-m", "torchnn.cli"]


def run_torchnn(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``torchnn ARGS`` in ``cwd`` and return the finished process (text output)."""
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    return subprocess.run([*torchnn_command(), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def flower_module(**kwargs) -> DeepNetworkModule:
    """The seed's 2-4-1 tanh network with its defaults, after seeding the initialisation."""
    L.seed_everything(kwargs.pop("seed", 1), verbose=False)
    return DeepNetworkModule(n_x=2, **kwargs)


def quick_trainer(**kwargs) -> L.Trainer:
    """A CPU Trainer that writes nothing: no logger, no checkpoints, no progress bar."""
    defaults = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                    enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=1,
                    num_sanity_val_steps=0)
    return L.Trainer(**{**defaults, **kwargs})


def flower_data(**kwargs) -> FlowerDataModule:
    return FlowerDataModule(**{"val_fraction": 0.0, **kwargs})


def last_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """The network weights in ``run_dir/checkpoints/last.ckpt`` (loaded weights_only)."""
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    return {k: v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}


def folder_bytes(folder: Path) -> dict[Path, bytes | None]:
    """Every path under ``folder`` with the bytes of each file: the whole folder, byte for byte."""
    return {p.relative_to(folder): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}
