"""Silence the messages Lightning prints on every run that say nothing actionable here."""

from __future__ import annotations

import logging
import os
import warnings

__all__ = ["quiet_lightning"]

_MESSAGES = (
    r".*does not have many workers.*",  # the tables are tiny and live in memory
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",  # Lightning internals on torch 2.13
    r".*Checkpoint directory .* exists and is not empty.*",  # only when resuming into its folder
    r".*The number of training batches .* is smaller than the logging interval.*",
    # torch <= 2.6 (torch/distributed/nn/jit/instantiator.py) makes a TemporaryDirectory at
    # import and leaves it to the interpreter, which warns at exit; torch 2.8 cleans it up
    r"Implicitly cleaning up <TemporaryDirectory",
    # the module steps its schedulers itself (manual optimisation), ReduceLROnPlateau included
    r".*The lr scheduler dict contains the key\(s\) \['monitor'\].*",
)


def _drop_tips(record: logging.LogRecord) -> bool:
    """Drop Lightning's advertisement for its cloud logger (an INFO line on every run)."""
    return "Tip:" not in str(record.msg)


def quiet_lightning() -> None:
    """Filter the warnings above, Lightning's cloud-logger tip and jsonargparse's deprecation
    notices about Lightning's own calls; every other warning still shows."""
    os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
    for message in _MESSAGES:
        warnings.filterwarnings("ignore", message=message)
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if _drop_tips not in logger.filters:
        logger.addFilter(_drop_tips)
