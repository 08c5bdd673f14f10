"""Time torchnn's CSV reader against numpy.loadtxt on the same files, side by side.

    .venv/bin/python scripts/bench_csv.py --rows 100000 1000000 10000000

Each file has a header and ``m`` rows of 9 normal features (``%.8g``) and a 0/1 label, 10
columns. Files are written under ``--dir`` (``/tmp`` by default: never the repository) and
deleted afterwards unless ``--keep``. After one untimed read (so both find the file in the page
cache) the two readers alternate ``--repeats`` times, in the order AB, BA, AB, ... so that a drift
in the machine's load hits both (three times for 5,000,000 rows or more). Peak memory is
tracemalloc's peak during one more read, over the bytes of the float array.
Prints a Markdown table.
"""

import argparse
import os
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np

from torchnn.data import read_csv_table


def write_table(path: Path, m: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w") as handle:
        handle.write(",".join([f"x{j}" for j in range(9)] + ["label"]) + "\n")
        for start in range(0, m, 1_000_000):  # in slices: the 10^7 table would take 800 MB
            k = min(1_000_000, m - start)
            X = rng.normal(size=(k, 9))
            np.savetxt(handle, np.c_[X, X[:, 0] > 0], fmt=["%.8g"] * 9 + ["%d"], delimiter=",")


def readers(path: Path) -> dict:
    return {"numpy.loadtxt": lambda: np.loadtxt(path, delimiter=",", skiprows=1),
            "read_csv_table": lambda: read_csv_table(path, "label")}


def peak_ratio(read, m: int) -> float:
    tracemalloc.start()
    try:
        read()
        return tracemalloc.get_traced_memory()[1] / (m * 10 * 8)
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/torchnn-bench-csv"))
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"<!-- {date.today()}: {' '.join(['python', *sys.argv])}; load {os.getloadavg()} -->")
    print("| rows | file | numpy.loadtxt (median, min) | read_csv_table (median, min) "
          "| median ratio | peak memory / float array: loadtxt, ours |")
    print("|---|---|---|---|---|---|")
    for m in args.rows:
        path = args.dir / f"table_{m}.csv"
        if not path.exists():
            write_table(path, m)
        try:
            funcs = readers(path)
            funcs["read_csv_table"]()  # untimed: the page cache now holds the file
            times: dict[str, list[float]] = {name: [] for name in funcs}
            for i in range(args.repeats if m < 5_000_000 else min(args.repeats, 3)):
                for name, read in list(funcs.items())[:: 1 if i % 2 == 0 else -1]:
                    start = time.perf_counter()
                    read()
                    times[name].append(time.perf_counter() - start)
            med = {name: float(np.median(t)) for name, t in times.items()}
            cells = [f"{med[name]:.3f} s, {min(t):.3f} s" for name, t in times.items()]
            peaks = [peak_ratio(read, m) for read in funcs.values()]
            print(f"| {m:,} | {path.stat().st_size / 1e6:.0f} MB | {cells[0]} | {cells[1]} "
                  f"| {med['read_csv_table'] / med['numpy.loadtxt']:.2f} "
                  f"| {peaks[0]:.2f}, {peaks[1]:.2f} |", flush=True)
        finally:
            if not args.keep:
                path.unlink()
    print(f"<!-- load after: {os.getloadavg()} -->")


if __name__ == "__main__":
    main()
