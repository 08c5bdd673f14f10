"""The ``torchnn`` command: ``fit | validate | test | predict --config configs/NAME.yaml``.

A LightningCLI over :class:`~torchnn.training.DeepNetworkModule` and any torchnn DataModule, plus
``torchnn bench ...``, which forwards to ``torchnn.bench.main``. Heavy imports (Lightning,
matplotlib) happen inside :func:`main`, so ``torchnn bench`` does not pay for them.

Examples::

    torchnn fit --config configs/flower.yaml
    torchnn fit --config configs/flower.yaml --ckpt_path last        # resume, same run folder
    torchnn fit --config configs/flower.yaml --print_config
    torchnn validate --config configs/flower.yaml \
        --ckpt_path runs/flower/version_0/checkpoints/best.ckpt
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Sequence

__all__ = ["main"]

# Messages that are expected in this project's runs and say nothing actionable to the user.
_QUIET_WARNINGS = (
    r".*does not have many workers.*",  # the tables are tiny and live in memory
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",  # Lightning internals on torch 2.13
    r".*Checkpoint directory .* exists and is not empty.*",  # only when resuming into its folder
    r".*The number of training batches .* is smaller than the logging interval.*",
)


def _quiet_warnings() -> None:
    # Lightning 2.6 still calls jsonargparse APIs that jsonargparse 4.49+ deprecates
    os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
    for message in _QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message)


def _drop_tips(record: logging.LogRecord) -> bool:
    """Drop Lightning's advertisement for its cloud logger (an INFO line on every run)."""
    return "Tip:" not in str(record.msg)


def _bench(argv: list[str]) -> int:
    try:
        from torchnn import bench
    except ModuleNotFoundError as err:
        if err.name not in ("torchnn.bench", "torchnn"):
            raise
        print("torchnn bench: the benchmark module torchnn.bench is not part of this install; "
              "expected torchnn/bench.py (see the README's performance section)", file=sys.stderr)
        return 2
    return int(bench.main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "bench":
        raise SystemExit(_bench(args[1:]))
    _quiet_warnings()
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_drop_tips)
    from torchnn.training.cli import ConfigError, TorchnnCLI
    from torchnn.training.runs import CheckpointError

    try:
        TorchnnCLI(args=None if argv is None else args)
    except (CheckpointError, ConfigError, FileNotFoundError) as err:
        print(f"torchnn: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
