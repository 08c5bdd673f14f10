"""``python -m torchnn.bench``: one training step of every variant, timed side by side."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from torchnn.bench import measure as M
from torchnn.bench.numpy_ref import logreg_loop_step, logreg_vectorised_step
from torchnn.bench.report import check_targets, markdown
from torchnn.bench.variants import SIZES, VARIANTS, Problem, build_variants, parse_size

__all__ = ["main", "run"]

DEFAULT_SIZES = "flower,wdbc,mnist,cat,large"
GRAPH_MAX_PARAMS = 1_000_000  # CUDA-graph capture of the whole step for networks up to this
BIG_FLOPS = 10e9  # sizes with more GEMM FLOPs per step get at most 5 interleaved repeats


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m torchnn.bench",
        description="Time one training step of torchnn (explicit gd_step, backprop, autograd) "
        "against torch.nn (+ torch.compile) and numpy, interleaved, with medians and ratios.",
    )
    p.add_argument("--sizes", default=DEFAULT_SIZES,
                   help=f"comma-separated names from {sorted(SIZES)} or 'n0-n1-...-nL@m' "
                   f"(default: {DEFAULT_SIZES})")
    p.add_argument("--activations", default="tanh,relu", help="hidden g's (default tanh,relu)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="which variants to run")
    p.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 15, "
                   "at most 5 above 10 GFLOP per step; --quick 3)")
    p.add_argument("--quick", action="store_true", help="few repeats, short blocks, small "
                   "logistic regression, no 10k-iteration loop (a smoke run)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant "
                   "(its warm-up compiles for a few seconds per size)")
    p.add_argument("--no-numpy", action="store_true", help="skip the numpy float64 variant")
    p.add_argument("--no-logreg", action="store_true", help="skip Algorithm 1.2 vs 1.3")
    p.add_argument("--memory-size", default=None, help="size for the saved-bytes table over "
                   "four activations (default mnist, or the first size)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (cuda adds peak memory and "
                   "CUDA-graph capture; skipped cleanly when no GPU is present)")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    p.add_argument("--out", default="bench-results", help="folder for bench.json and bench.md")
    return p


def _variant_names(args) -> tuple[str, ...]:
    names = [n for n in args.variants.split(",") if n]
    bad = [n for n in names if n not in VARIANTS]
    if bad:
        raise SystemExit(f"unknown variant(s) {bad}; expected some of {list(VARIANTS)}")
    if args.no_compile:
        names = [n for n in names if n != "compiled"]
    if args.no_numpy or args.device != "cpu":
        names = [n for n in names if n != "numpy"]
    return tuple(names)


def _saved(p: Problem, name: str, variant) -> int | None:
    if variant.tape is not None:
        with torch.no_grad():
            return M.tape_bytes(variant.tape(), [p.x])
    if variant.forward is not None:
        return M.saved_bytes(variant.forward, variant.exclude)[0]
    return None  # compiled: AOTAutograd's saved set is not visible to the hooks


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
    """Time every variant of one problem and collect speed, ceiling and memory figures."""
    variants = build_variants(p, names)
    steps = {name: v.step for name, v in variants.items()}
    steps["gemm"] = M.gemm_step(p.dims, p.m, p.dtype, p.device)
    n_params = sum(a * b + b for a, b in zip(p.dims[:-1], p.dims[1:]))
    if p.device == "cuda" and n_params <= GRAPH_MAX_PARAMS:
        for name in ("explicit", "torch.nn"):
            if name in variants:
                try:
                    steps[f"{name} (CUDA graph)"] = _cuda_graph(variants[name].step)
                except Exception as exc:  # noqa: BLE001 - report, keep benchmarking
                    notes.append(f"{p.name} {p.activation}: CUDA graph of {name} failed: {exc}")
    if p.flops > BIG_FLOPS:
        # NOTE: 5, not 15: keeps the full run near 5 minutes on 2 cores; 3 let one slow
        # block in two decide a ratio (large autograd: 0.86x with 3, 1.00x in 6 rounds alone)
        repeats = min(repeats, 5)
    times = M.interleaved_times(steps, repeats, min_block, device=p.device)
    gemm = M.median(times.pop("gemm"))
    base = M.median(times["torch.nn"]) if "torch.nn" in times else None
    act_bytes = p.activation_bytes
    cell = {"size": p.name, "dims": p.dims, "m": p.m, "activation": p.activation,
            "repeats": repeats,
            "gflop": p.flops / 1e9, "gemm_s": gemm, "gemm_gflops": p.flops / gemm / 1e9,
            "activation_bytes": act_bytes, "variants": {}}
    for name, ts in times.items():
        med = M.median(ts)
        row = {"median_s": med, "min_s": min(ts), "times_s": ts, "gflops": p.flops / med / 1e9,
               "ceiling_fraction": gemm / med, "speedup": None if base is None else base / med,
               "speedup_best": None if base is None else min(times["torch.nn"]) / min(ts)}
        base_name = name.split(" (")[0]
        if base_name in variants and name == base_name:
            saved = _saved(p, name, variants[name])
            item = 8 if name == "numpy" else p.x.element_size()
            denom = act_bytes // p.x.element_size() * item
            row["saved_bytes"] = saved
            row["saved_ratio"] = None if saved is None else saved / denom
            if variants[name].held is not None:  # gd_step's own buffers, after the timed steps
                held = variants[name].held()
                row["held_bytes"] = held
                row["held_ratio"] = None if held is None else held / act_bytes
            if p.device == "cuda":
                row["peak_cuda_bytes"] = M.peak_cuda_bytes(variants[name].step)
        cell["variants"][name] = row
    return cell


def memory_table(size: str, device: str) -> list[dict]:
    """Saved-for-backward / activations for the four activations of §2.2 (no timing)."""
    name, dims, m = parse_size(size)
    rows = []
    for act in ("sigmoid", "tanh", "relu", "leaky_relu"):
        p = Problem(name, dims, m, act, device=device)
        variants = build_variants(p, ("autograd", "autograd-network", "autograd-recompute",
                                      "explicit", "recompute", "torch.nn", "numpy"))
        ratios = {}
        for vname, v in variants.items():
            saved = _saved(p, vname, v)
            item = 8 if vname == "numpy" else p.x.element_size()
            ratios[vname] = saved / (p.activation_bytes // p.x.element_size() * item)
        rows.append({"size": name, "activation": act, "ratios": ratios})
    return rows


def flower_loop(iters: int = 10_000, repeats: int = 3) -> list[float]:
    """Seconds for each of ``repeats`` runs of ``iters`` ``DeepNetwork.gd_step`` calls on the
    flower network (one network, trained on from run to run).

    NOTE: a single 0.3-second loop on a shared machine took 0.33-0.65 s from run to run; the
    report gives the median of the repeats and keeps each one.
    """
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

    Each is first run 3 iterations from w = 0 (the three must agree), then timed as the median
    of single iterations after one untimed warm-up: the first torchnn step also checks the data's
    values (once per data set) and builds the step's buffers, which a training loop pays once.
    """
    from torchnn.nn.network import LogisticRegression

    n_x, m = (64, 32) if quick else (12288, 209)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_x, m)) / np.sqrt(n_x)
    Y = (rng.random(m) > 0.5).astype(np.float64)
    w0, lr = np.zeros(n_x), 0.005
    net = LogisticRegression(n_x, init="zeros", dtype=torch.float64)
    xt, yt = torch.from_numpy(X.T.copy()), torch.from_numpy(Y[:, None].copy())
    steps = {
        "loop_s": lambda w, b: logreg_loop_step(w, b, X, Y, lr)[:2],
        "vectorised_s": lambda w, b: logreg_vectorised_step(w, b, X, Y, lr)[:2],
        "torchnn_s": lambda w, b: (net.gd_step(xt, yt, lr), None),
    }
    ends, timed = {}, {}
    for key, step in steps.items():
        w, b = w0, 0.0
        for _ in range(3):
            w, b = step(w, b)
        ends[key] = net.layers[0].weight.detach().numpy()[0].copy() if key == "torchnn_s" else w
        times = []
        for _ in range(3 if key == "loop_s" else 9):
            t0 = time.perf_counter()
            step(w, b)
            times.append(time.perf_counter() - t0)
        timed[key] = float(np.median(times))
    same = bool(np.allclose(ends["loop_s"], ends["vectorised_s"], atol=1e-12)
                and np.allclose(ends["torchnn_s"], ends["vectorised_s"], atol=1e-12))
    return {"n_x": n_x, "m": m, **timed, "same_result": same}


def _numpy_blas_single_thread(names: tuple[str, ...], notes: list[str]):
    """Run numpy's own OpenBLAS on one thread for the benchmark; returns the limiter or None.

    NOTE: after each call OpenBLAS's idle threads spin-wait, and interleaved with the torch
    variants they took the 2 cores from whatever ran next ([784, 256, 256, 1]: explicit at 0.53x
    of torch.nn with numpy in the round, 1.20x without). Only numpy's bundled OpenBLAS is
    limited (torch's BLAS is left alone); the numpy column is therefore single-threaded.
    """
    if "numpy" not in names:
        return None
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
    min_block = 0.005 if args.quick else 0.01
    names = _variant_names(args)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    acts = [a for a in args.activations.split(",") if a]
    notes: list[str] = []
    meta = {"torch": torch.__version__, "device": args.device, "threads": args.threads,
            "repeats": repeats, "load_before": [round(v, 2) for v in os.getloadavg()],
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": "python -m torchnn.bench " + " ".join(argv or sys.argv[1:])}
    numpy_blas = _numpy_blas_single_thread(names, notes)
    t_start = time.perf_counter()
    results = []
    for name, dims, m in sizes:
        for act in acts:
            p = Problem(name, dims, m, act, device=args.device)
            results.append(run_cell(p, names, repeats, min_block, notes))
            print(f"  {name} {act}: done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)
    mem_size = args.memory_size or ("mnist" if "mnist" in [s[0] for s in sizes] else args.sizes
                                    .split(",")[0])
    report = {"meta": meta, "results": results, "memory": memory_table(mem_size, args.device),
              "notes": notes}
    if any(s[0] == "flower" for s in sizes) and not args.quick and args.device == "cpu":
        report["flower_10k_runs_s"] = flower_loop()
        report["flower_10k_s"] = M.median(report["flower_10k_runs_s"])
    if not args.no_logreg:
        report["logreg"] = logreg(args.quick)
    report["targets"] = check_targets(results, report["memory"], report)
    meta["load_after"] = [round(v, 2) for v in os.getloadavg()]
    meta["wall_s"] = round(time.perf_counter() - t_start, 1)
    if numpy_blas is not None:
        numpy_blas.restore_original_limits()
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
