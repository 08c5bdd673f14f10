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

import sys
from collections.abc import Sequence

__all__ = ["main"]


def _bench(argv: list[str]) -> int:
    try:
        from torchnn import bench
    except ModuleNotFoundError as err:
        if err.name not in ("torchnn.bench", "torchnn"):
            raise
        print("torchnn bench: the benchmark module torchnn.bench is not part of this install; "
              "expected torchnn/bench.py (see docs/performance.md)", file=sys.stderr)
        return 2
    return int(bench.main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "bench":
        raise SystemExit(_bench(args[1:]))
    from torchnn.training.quiet import quiet_lightning

    quiet_lightning()
    from torchnn.training.cli import ConfigError, TorchnnCLI
    from torchnn.training.runs import CheckpointError

    try:
        TorchnnCLI(args=None if argv is None else args)
    except (CheckpointError, ConfigError, FileNotFoundError) as err:
        print(f"torchnn: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
