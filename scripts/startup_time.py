"""Whole-process start-up times of the ``torchnn`` command, interleaved, several rounds.

Each round runs every command once, in turn, so that a busy machine slows them alike; the table
gives min / median / max wall-clock seconds. The fit runs in a fresh temporary folder each time.

    .venv/bin/python scripts/startup_time.py            # 5 rounds
    .venv/bin/python scripts/startup_time.py --rounds 3 --only version,help
    .venv/bin/python scripts/startup_time.py --before /tmp/base   # and another source tree's
                                                                  # torchnn (git archive HEAD)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FLOWER = str(ROOT / "configs" / "flower.yaml")

COMMANDS = {
    "import lightning.pytorch": [sys.executable, "-c", "import lightning.pytorch"],
    "import torchnn": [sys.executable, "-c", "import torchnn"],
    "version": [str(BIN / "torchnn"), "--version"],
    "help": [str(BIN / "torchnn"), "--help"],
    "fit flower": [str(BIN / "torchnn"), "fit", "--config", FLOWER,
                   "--trainer.enable_progress_bar", "false"],
}


def _before(tree: str) -> dict[str, list[str]]:
    """The torchnn rows for another source tree, run as ``python -m torchnn.cli`` from it."""
    cli = ["env", f"PYTHONPATH={tree}", sys.executable, "-m", "torchnn.cli"]
    return {
        f"import torchnn [{tree}]": ["env", f"PYTHONPATH={tree}", sys.executable, "-c",
                                    "import torchnn"],
        f"version [{tree}]": [*cli, "--version"],
        f"help [{tree}]": [*cli, "--help"],
        f"fit flower [{tree}]": [*cli, "fit", "--config", f"{tree}/configs/flower.yaml",
                                 "--trainer.enable_progress_bar", "false"],
    }


def _time(cmd: list[str]) -> float:
    """Seconds from start to exit; ``-seconds`` when the command failed."""
    folder = tempfile.mkdtemp(prefix="torchnn-startup-")
    try:
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=folder, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
        seconds = time.perf_counter() - start
        return seconds if done.returncode == 0 else -seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated names from the table")
    parser.add_argument("--before", default="", help="another source tree to time beside")
    args = parser.parse_args()
    if args.before:
        COMMANDS.update(_before(args.before))
    names = [n for n in COMMANDS if not args.only or n.split()[0] in args.only.split(",")
             or n in args.only.split(",")]
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:
            times[name].append(_time(COMMANDS[name]))
    width = max(map(len, names))
    print(f"{'command':{width}s} {'min':>6s} {'median':>7s} {'max':>6s}   (s, {args.rounds} "
          f"rounds, load before: {load:.1f}, after: {os.getloadavg()[0]:.1f})")
    for name, signed in times.items():
        ts = [abs(t) for t in signed]
        failed = "  (exit status != 0)" if any(t < 0 for t in signed) else ""
        print(f"{name:{width}s} {min(ts):6.2f} {statistics.median(ts):7.2f} {max(ts):6.2f}{failed}")


if __name__ == "__main__":
    main()
