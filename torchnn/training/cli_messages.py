"""One-line messages for the command's errors that arrive from elsewhere: a GPU torch cannot
see, a package a config needs but pip has not installed, an exception jsonargparse wrapped."""

from __future__ import annotations

import re
import traceback

import torch

__all__ = ["device_hint", "missing_package", "root_cause"]


def device_hint(trainer: dict) -> str:
    """What the machine has, when the trainer asked for a GPU that torch cannot see."""
    if str(trainer.get("accelerator")) not in ("gpu", "cuda") or torch.cuda.is_available():
        return ""
    cuda = torch.version.cuda
    build = "a CPU-only build" if cuda is None else f"built for CUDA {cuda}"
    return (f" (accelerator {trainer.get('accelerator')!r} asked for a GPU, but torch "
            f"{torch.__version__}, {build}, sees no CUDA device); expected --trainer.accelerator "
            "cpu or auto on this machine")


# optional packages a config can ask for, and the torchnn extra that installs each
_EXTRAS = {"tensorboard": "tensorboard", "tensorboardX": "tensorboard"}
_REQUIREMENT = re.compile(r"Requirement '([^']+)' not met")


def missing_package(err: BaseException) -> str:
    """One line for a logger (or other part) whose package is not installed, else ``""``."""
    if not isinstance(err, ImportError):
        return ""
    found = _REQUIREMENT.findall(str(err))
    package = re.split(r"[<>=!~ ]", found[-1])[0] if found else (err.name or "")
    if not package:
        return ""
    extra = _EXTRAS.get(package)
    fix = (f"pip install 'torchnn[{extra}]' (or pip install {package})" if extra
           else f"pip install '{found[-1] if found else package}'")
    part = next((line for line in traceback.format_exception(err)[::-1]
                 if "lightning/pytorch/loggers/" in line), "")
    what = "the logger" if part else "a part of the config"
    return (f"{what} needs the package {package!r}, which is not installed; expected {fix}, "
            "or another trainer.logger")


def root_cause(err: BaseException) -> BaseException:
    """The first exception of a ``raise ... from`` chain (jsonargparse wraps constructor errors)."""
    while err.__cause__ is not None:
        err = err.__cause__
    return err
