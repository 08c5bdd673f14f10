"""The ``torchnn`` command: ``fit | validate | test | predict --config NAME | FILE.yaml``.

A LightningCLI over :class:`~torchnn.training.DeepNetworkModule` and any torchnn DataModule, plus
``torchnn bench ...``, which forwards to ``torchnn.bench.main``, and ``torchnn --version``. Heavy
imports (torch, Lightning, matplotlib) happen inside :func:`main`, so ``--version`` and
``torchnn bench`` do not pay for them.

``--config`` takes a YAML file or the name of a config shipped in the package (``flower``,
``csv``, ...: the files in ``torchnn/configs/``, which a clone also shows as ``configs/``). In a
shipped config, a relative path that names a shipped file (``examples/xor.csv``) is read from
the package; every other path (``runs/``, your own CSV on the command line) stays relative to
the folder torchnn runs in.

Examples::

    torchnn fit --config flower                                      # a shipped config by name
    torchnn fit --config configs/flower.yaml
    torchnn fit --config configs/flower.yaml --ckpt_path last        # resume, same run folder
    torchnn fit --config configs/flower.yaml --print_config
    torchnn validate --config configs/flower.yaml \
        --ckpt_path runs/flower/version_0/checkpoints/best.ckpt
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CONFIGS", "main", "resolve_configs", "shipped_configs"]

CONFIGS = Path(__file__).resolve().parent / "configs"  # the shipped configs (package data)
_SUBCOMMANDS = ("fit", "validate", "test", "predict")
_NAME = re.compile(r"[\w-]+(\.ya?ml)?")  # a bare config name: flower, flower.yaml


class ConfigNameError(ValueError):
    """``--config`` names neither a file nor a shipped config."""


def shipped_configs() -> list[str]:
    """The names of the configs shipped in the package (``torchnn fit --config NAME``)."""
    return sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def _config_file(value: str) -> str:
    """``--config VALUE``: a file as given, a shipped config's file for a bare name, or a YAML
    string (jsonargparse's inline form) unchanged."""
    if Path(value).is_file():
        return value
    if _NAME.fullmatch(value) and (CONFIGS / f"{Path(value).stem}.yaml").is_file():
        return str(CONFIGS / f"{Path(value).stem}.yaml")
    if _NAME.fullmatch(value) or value.endswith((".yaml", ".yml")):
        raise ConfigNameError(
            f"--config {value}: no such file, and no shipped config of that name; expected a "
            f"YAML file or one of: {', '.join(shipped_configs())}")
    return value


def _shipped_paths(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """``(key, absolute path)`` for each relative path in a shipped config that names a shipped
    file (``data.init_args.path: examples/xor.csv``); ``runs`` and other folders are left alone."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _shipped_paths(v, f"{key}.{k}" if key else str(k))
    elif isinstance(node, str) and not Path(node).is_absolute() and (CONFIGS / node).is_file():
        yield key, str(CONFIGS / node)


def resolve_configs(args: list[str]) -> list[str]:
    """``args`` with each ``--config NAME`` made a path, and, after each shipped config, a
    ``--KEY PATH`` for each shipped file it names (so later command-line values still win)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--config" and i + 1 < len(args):
            value, i = args[i + 1], i + 2
        elif arg.startswith("--config="):
            value, i = arg.removeprefix("--config="), i + 1
        else:
            out.append(arg)
            i += 1
            continue
        path = _config_file(value)
        out += ["--config", path]
        if Path(path).resolve().parent == CONFIGS and any(a in _SUBCOMMANDS for a in out):
            import yaml

            with open(path) as f:
                for key, file in _shipped_paths(yaml.safe_load(f)):
                    out += [f"--{key}", file]
    return out


def _bench(argv: list[str]) -> int:
    try:
        from torchnn import bench
    except ModuleNotFoundError as err:
        if err.name not in ("torchnn.bench", "torchnn"):
            raise
        print("torchnn bench: the benchmark module torchnn.bench is not part of this install; "
              "expected the package torchnn/bench/ (see docs/performance.md)", file=sys.stderr)
        return 2
    return int(bench.main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "bench":
        raise SystemExit(_bench(args[1:]))
    if args[:1] == ["--version"]:
        from torchnn import __version__

        print(f"torchnn {__version__}")
        return
    try:
        args = resolve_configs(args)
    except ConfigNameError as err:
        print(f"torchnn: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    from torchnn.training.quiet import quiet_lightning

    quiet_lightning()
    from torchnn.training.cli import ConfigError, TorchnnCLI
    from torchnn.training.runs import CheckpointError

    if argv is None:  # the command's own process, not a caller's
        # NOTE: torch and Lightning leave a large heap of objects that live until exit; one full
        # collection over them costs a visible share of a short run (docs/performance.md)
        gc.freeze()
    try:
        if argv is None:  # LightningCLI reads sys.argv itself (given args too, it warns)
            sys.argv[1:] = args
        TorchnnCLI(args=None if argv is None else args)
    except (CheckpointError, ConfigError, FileNotFoundError) as err:
        print(f"torchnn: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
