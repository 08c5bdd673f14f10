"""``python -m torchnn.bench``: one training step of every variant, timed side by side."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor

from torchnn.bench import measure as M
from torchnn.bench.numpy_ref import logreg_loop_step, logreg_vectorised_step
from torchnn.bench.report import check_targets, markdown
from torchnn.bench.variants import OUTPUT_OF, SIZES, VARIANTS, Problem, build_variants, parse_size

__all__ = ["main", "run", "run_cell", "memory_table", "flower_loop", "logreg"]

DEFAULT_SIZES = "flower,wdbc,mnist,mnist10,cat,large"
GRAPH_MAX_PARAMS = 1_000_000  # CUDA-graph capture of the whole step for networks up to this
BIG_FLOPS = 10e9  # sizes with more GEMM FLOPs per step get at most 5 interleaved repeats
MEMORY_VARIANTS = ("autograd", "autograd-layers", "autograd-recompute", "torch.nn")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m torchnn.bench",
        description="Time one training step of torchnn (gd_step, backprop, autograd) against "
        "torch.nn (+ torch.compile) and a numpy reference, interleaved, with medians and ratios; "
        "writes bench.json and bench.md to --out and prints the markdown.")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help=f"comma-separated names from "
                   f"{sorted(SIZES)} or 'n0-n1-...-nL@m' (default: {DEFAULT_SIZES})")
    p.add_argument("--activations", default="tanh,relu", help="hidden g's (default tanh,relu)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="which variants to run")
    p.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 15, "
                   "at most 5 above 10 GFLOP per step; --quick 3)")
    p.add_argument("--quick", action="store_true", help="few repeats, short blocks, small "
                   "logistic regression, no 10k-iteration loop (a smoke run)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant")
    p.add_argument("--no-numpy", action="store_true", help="skip the numpy float64 reference")
    p.add_argument("--no-logreg", action="store_true", help="skip Algorithm 1.2 vs 1.3")
    p.add_argument("--memory-size", default=None, help="size for the saved-bytes table over "
                   "four activations (default mnist, or the first size)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (cuda adds peak memory and "
                   "CUDA-graph capture; skipped cleanly when no GPU is present)")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    p.add_argument("--out", default="bench-results", help="folder for bench.json and bench.md")
    return p


def _saved_ratio(p: Problem, variant) -> float | None:
    """Bytes autograd saves for backward / the activations; None without an autograd graph
    (the explicit variants, numpy, and compiled, whose saved set the hooks cannot see)."""
    if variant.forward is None:
        return None
    return M.saved_bytes(variant.forward, variant.exclude)[0] / p.activation_bytes


def _cuda_graph(step):
    """Capture ``step`` whole into a CUDA graph (warm-up on a side stream first)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def run_cell(p: Problem, names: tuple[str, ...], repeats: int, min_block: float,
             notes: list[str]) -> dict:
    """Time every variant of one problem; collect speed, ceiling and memory figures."""
    variants = build_variants(p, names)
    steps = {name: v.step for name, v in variants.items()}
    steps["gemm"] = M.gemm_step(p.dims, p.m, p.dtype, p.device)
    n_params = sum(a * b + b for a, b in zip(p.dims, p.dims[1:]))
    if p.device == "cuda" and n_params <= GRAPH_MAX_PARAMS:
        for name in ("explicit", "torch.nn"):
            try:
                if name in variants:
                    steps[f"{name} (CUDA graph)"] = _cuda_graph(variants[name].step)
            except Exception as exc:  # noqa: BLE001 - report, keep benchmarking
                notes.append(f"{p.name} {p.activation}: CUDA graph of {name} failed: {exc}")
    if p.flops > BIG_FLOPS:
        repeats = min(repeats, 5)  # NOTE: keeps the full run near 5 minutes on 2 cores
    times = M.interleaved_times(steps, repeats, min_block, device=p.device)
    gemm = median(times.pop("gemm"))
    base = times.get("torch.nn")
    cell: dict[str, Any] = {
        "size": p.name, "dims": p.dims, "m": p.m, "activation": p.activation,
        "repeats": repeats, "gflop": p.flops / 1e9, "gemm_s": gemm,
        "gemm_gflops": p.flops / gemm / 1e9, "activation_bytes": p.activation_bytes,
        "variants": {}}
    for name, ts in times.items():
        med = median(ts)
        row = cell["variants"][name] = {
            "median_s": med, "min_s": min(ts), "times_s": ts, "gflops": p.flops / med / 1e9,
            "ceiling_fraction": gemm / med,
            "speedup": base and median(base) / med, "speedup_best": base and min(base) / min(ts)}
        if name in variants:  # (not the CUDA-graph rows)
            row["saved_ratio"] = _saved_ratio(p, variants[name])
            if (held := variants[name].held) is not None:
                row["held_bytes"] = held()  # gd_step's buffers, after the steps
            if p.device == "cuda":
                row["peak_cuda_bytes"] = M.peak_cuda_bytes(variants[name].step)
    return cell


def memory_table(size: str, device: str) -> list[dict]:
    """Saved for backward / activations for the four activations of §2.2 (no timing)."""
    name, dims, m = parse_size(size)
    rows = []
    for act in ("sigmoid", "tanh", "relu", "leaky_relu"):
        p = Problem(name, dims, m, act, device=device, output=OUTPUT_OF.get(name, "sigmoid"))
        rows.append({"size": name, "activation": act, "ratios": {
            k: _saved_ratio(p, v) for k, v in build_variants(p, MEMORY_VARIANTS).items()}})
    return rows


def flower_loop(iters: int = 10_000, repeats: int = 3) -> list[float]:
    """Seconds of each of ``repeats`` runs of ``iters`` ``gd_step`` calls on the flower network
    (one network, trained on from run to run); the report takes their median."""
    p = Problem("flower", *SIZES["flower"], activation="tanh", lr=1.2)
    net = p.network()
    net.gd_step(p.x, p.y, p.lr)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            net.gd_step(p.x, p.y, p.lr)
        times.append(time.perf_counter() - t0)
    return times


def logreg(quick: bool) -> dict:
    """Algorithm 1.2 (loop over the m examples) vs 1.3 (vectorised), numpy float64, and torchnn.

    Each runs 3 iterations from w = 0 (the three must agree), then is timed as the median of
    single iterations (the first torchnn step also checks the data and builds its buffers).
    """
    from torchnn.nn.logistic import LogisticRegression

    n_x, m = (64, 32) if quick else (12288, 209)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_x, m)) / np.sqrt(n_x)
    Y = (rng.random(m) > 0.5).astype(np.float64)
    net = LogisticRegression(n_x, init="zeros", dtype=torch.float64)
    xt, yt = torch.from_numpy(X.T.copy()), torch.from_numpy(Y[:, None].copy())
    steps = {"loop_s": lambda w, b: logreg_loop_step(w, b, X, Y, 0.005)[:2],
             "vectorised_s": lambda w, b: logreg_vectorised_step(w, b, X, Y, 0.005)[:2],
             "torchnn_s": lambda w, b: (net.gd_step(xt, yt, 0.005), None)}
    ends, timed = {}, {}
    for key, step in steps.items():
        w, b = np.zeros(n_x), 0.0
        for _ in range(3):
            w, b = step(w, b)
        weight = cast(Tensor, net.layers[0].weight)
        ends[key] = weight.detach().numpy()[0].copy() if key == "torchnn_s" else w
        times = []
        for _ in range(3 if key == "loop_s" else 9):
            t0 = time.perf_counter()
            step(w, b)
            times.append(time.perf_counter() - t0)
        timed[key] = float(np.median(times))
    same = all(np.allclose(ends[k], ends["vectorised_s"], atol=1e-12) for k in ends)
    return {"n_x": n_x, "m": m, **timed, "same_result": bool(same)}


def _numpy_blas_single_thread(notes: list[str]):
    """Limit numpy's own OpenBLAS (not torch's) to one thread; returns the limiter or None.

    NOTE: OpenBLAS's idle threads spin-wait after each call, and interleaved with the torch
    variants they took the 2 cores from whichever ran next. The numpy column is single-threaded.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        notes.append("threadpoolctl missing: numpy's BLAS kept its default threads")
        return None
    np.ones((2, 2)) @ np.ones((2, 2))  # load numpy's BLAS
    blas = ThreadpoolController().select(prefix="libscipy_openblas")
    if not blas.lib_controllers:
        return None
    notes.append("numpy's OpenBLAS ran on 1 thread (its spinning idle threads otherwise slow "
                 "the torch variant that follows it in the round)")
    return blas.limit(limits=1)


def run(argv: list[str] | None = None) -> dict:
    """Run the benchmark and return the report (also written to ``--out``)."""
    args = _parser().parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: skipping (nothing to measure)", file=sys.stderr)
        return {}
    torch.set_num_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 15)
    skip = {n for n, off in (("compiled", args.no_compile), ("numpy", args.no_numpy)) if off}
    names = tuple(n for n in args.variants.split(",") if n and n not in skip)
    if bad := [n for n in names if n not in VARIANTS]:
        raise SystemExit(f"unknown variant(s) {bad}; expected some of {list(VARIANTS)}")
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    notes: list[str] = []
    meta = {"torch": torch.__version__, "device": args.device, "threads": args.threads,
            "repeats": repeats, "load_before": [round(v, 2) for v in os.getloadavg()],
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": "python -m torchnn.bench " + " ".join(sys.argv[1:] if argv is None
                                                             else argv)}
    blas = _numpy_blas_single_thread(notes) if "numpy" in names else None
    t_start, results = time.perf_counter(), []
    for name, dims, m in sizes:
        for act in [a for a in args.activations.split(",") if a]:
            p = Problem(name, dims, m, act, device=args.device,
                        output=OUTPUT_OF.get(name, "sigmoid"))
            results.append(run_cell(p, names, repeats, 0.005 if args.quick else 0.01, notes))
            print(f"  {name} {act}: done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)
    mem_size = args.memory_size or ("mnist" if "mnist" in [s[0] for s in sizes] else sizes[0][0])
    report: dict[str, Any] = {
        "meta": meta, "results": results, "memory": memory_table(mem_size, args.device),
        "notes": notes}
    if any(s[0] == "flower" for s in sizes) and not args.quick and args.device == "cpu":
        report["flower_10k_runs_s"] = flower_loop()
        report["flower_10k_s"] = median(report["flower_10k_runs_s"])
    if not args.no_logreg:
        report["logreg"] = logreg(args.quick)
    report["targets"] = check_targets(results, report["memory"], report)
    meta["load_after"] = [round(v, 2) for v in os.getloadavg()]
    meta["wall_s"] = round(time.perf_counter() - t_start, 1)
    if blas is not None:
        blas.restore_original_limits()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=1, default=str))
    (out / "bench.md").write_text(markdown(report))
    return report


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m torchnn.bench`` and ``torchnn bench``; returns the exit code."""
    report = run(argv)
    if report:
        print(markdown(report))
    return 0
