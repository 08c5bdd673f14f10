"""Turning measurements into the goals table and the markdown report (``bench.json``'s twin).

The goals are issue 15's: speed against ``torch.nn`` on the flower and mnist networks, the
flower training loop's time, and the bytes the autograd graphs save for backward. The cat and
large cells and the recompute modes' time are measured and reported without a goal.
"""

from __future__ import annotations

import statistics

__all__ = ["GOALS", "check_targets", "markdown"]

# (size, activation, variant, speed-up over torch.nn at least this)
# NOTE: on the flower network gd_step's default route is the compiled loop ("c-loop")
GOALS = (("flower", "tanh", "c-loop", 3.5), ("mnist", "relu", "explicit", 1.2),
         ("mnist", "relu", "autograd", 0.95),
         # issue 18: the multi-class cell, against nn.CrossEntropyLoss
         ("mnist10", "relu", "explicit", 1.2), ("mnist10", "relu", "autograd", 0.95))
FLOWER_10K_S = 1.2  # 10,000 flower gd_step iterations in at most this many seconds
SAVED_MAX = {"autograd": 1.0, "autograd-layers": 1.0, "autograd-recompute": 0.5}
# the variant columns of the speed table, in order
COLUMNS = ("explicit", "c-loop", "recompute", "backprop", "autograd", "autograd-layers",
           "autograd-recompute", "compiled", "numpy", "kernels", "bare-fn")


def _target(name: str, measured: float | None, goal: str, ok: bool | None,
            best: float | None = None, paired: list[float] | None = None) -> dict:
    """One row; ``ok`` None: reported without a goal; ``paired``: see ``_paired``."""
    return {"target": name, "measured": measured, "best": best, "paired": paired, "goal": goal,
            "met": None if measured is None or ok is None else bool(ok)}


def _paired(cell: dict, num: str, den: str) -> list[float] | None:
    """[median, lower quartile, upper quartile] of ``num``'s time / ``den``'s time round by round.

    NOTE: a round times one block of every variant back to back, so a round's ratio compares
    blocks measured within moments of each other; how far the quartiles lie apart is how much
    the machine moved the comparison during the run.
    """
    v = cell["variants"]
    a, b = v.get(num, {}).get("times_s"), v.get(den, {}).get("times_s")
    if not a or not b or len(a) != len(b) or len(a) < 2:
        return None
    q1, median, q3 = statistics.quantiles([x / y for x, y in zip(a, b)], n=4)
    return [median, q1, q3]


def _time_ratio(cell: dict, num: str, den: str, stat: str = "median_s") -> float | None:
    """``num``'s time / ``den``'s time in one cell (``stat``: median_s or min_s), or None."""
    v = cell["variants"]
    return v[num][stat] / v[den][stat] if num in v and den in v else None


def check_targets(results: list[dict], memory: list[dict], extra: dict) -> list[dict]:
    """Each goal with its measured value and whether it is met, then the reported-only rows.

    ``results``: the timed cells; ``memory``: the saved-for-backward rows; ``extra``: the
    report, for ``flower_10k_s`` / ``flower_10k_runs_s``.
    """
    out: list[dict] = []
    for size, act, variant, goal in GOALS:
        for cell in results:
            if cell["size"] == size and cell["activation"] == act and variant in cell["variants"]:
                s = _time_ratio(cell, "torch.nn", variant)
                out.append(_target(f"{size} {act}: {variant} vs torch.nn", s, f">= {goal}x",
                                   s is not None and s >= goal,
                                   best=_time_ratio(cell, "torch.nn", variant, "min_s"),
                                   paired=_paired(cell, "torch.nn", variant)))
    if extra.get("flower_10k_s") is not None:
        t, runs = extra["flower_10k_s"], extra.get("flower_10k_runs_s") or [extra["flower_10k_s"]]
        out.append(_target(f"flower: 10,000 gd_step iterations (s, median of {len(runs)})", t,
                           f"<= {FLOWER_10K_S} s", t <= FLOWER_10K_S, best=min(runs)))
    for row in memory:
        for variant, most in SAVED_MAX.items():
            if variant in row["ratios"]:
                r = row["ratios"][variant]
                out.append(_target(f"saved for backward, {row['size']} {row['activation']}: "
                                   f"{variant}", r, f"<= {most}x activations",
                                   r is not None and r <= most))
    for cell in results:  # the multi-class cell's graphs: the softmax output saved at most once
        if cell["size"] != "mnist10":
            continue
        for variant, most in SAVED_MAX.items():
            r = cell["variants"].get(variant, {}).get("saved_ratio")
            if r is not None:
                out.append(_target(f"saved for backward, mnist10 {cell['activation']}: "
                                   f"{variant}", r, f"<= {most}x activations", r <= most))
    for cell in results:  # reported: what recompute costs in time, where both modes ran
        if cell["size"] != "large":
            continue
        for slow, fast in (("recompute", "explicit"), ("autograd-recompute", "autograd")):
            t = _time_ratio(cell, slow, fast)
            if t is not None:
                out.append(_target(f"large {cell['activation']}: {slow} time vs {fast}", t,
                                   "reported", None, best=_time_ratio(cell, slow, fast, "min_s")))
    return out


def _fmt(x: float | None, spec: str = ".2f", unit: str = "") -> str:
    return "–" if x is None else format(x, spec) + unit


def _time(s: float | None) -> str:
    if s is None:
        return "–"
    return f"{s * 1e6:.0f} µs" if s < 1e-2 else f"{s * 1e3:.1f} ms"


def _speed_table(results: list[dict]) -> list[str]:
    cols = [c for c in COLUMNS if any(c in cell["variants"] for cell in results)]
    lines = ["| size | g | torch.nn step | " + " | ".join(cols)
             + " | GEMM GFLOP/s | ceiling: explicit / autograd / torch.nn |",
             "|---|---|---|" + "---|" * len(cols) + "---|---|"]
    for cell in results:
        v = cell["variants"]
        sp = [_fmt(v[k].get("speedup"), ".2f", "×") if k in v else "–" for k in cols]
        ceil = " / ".join(_fmt(v.get(k, {}).get("ceiling_fraction"), ".0%")
                          for k in ("explicit", "autograd", "torch.nn"))
        lines.append(f"| {cell['size']} [{'-'.join(map(str, cell['dims']))}] m={cell['m']} | "
                     f"{cell['activation']} | {_time(v.get('torch.nn', {}).get('median_s'))} | "
                     f"{' | '.join(sp)} | {_fmt(cell.get('gemm_gflops'), '.0f')} | {ceil} |")
    return lines


def _floors(results: list[dict]) -> list[str]:
    """How far each torchnn path is from its floor, and the floors against the references."""
    pairs = (("kernels", "explicit"), ("numpy", "kernels"), ("bare-fn", "autograd"),
             ("torch.nn", "bare-fn"))
    cells = [c for c in results if "kernels" in c["variants"] or "bare-fn" in c["variants"]]
    if not cells:
        return []
    lines = ["", "Floors (`torchnn.bench.floors`): kernels = the explicit step's PyTorch calls "
             "with no checks around them; bare-fn = one minimal old-style Function per layer, "
             "same formulas and SGD. Each column: the second's speed-up over the first.", "",
             "| size | g | " + " | ".join(f"{b} vs {a}" for a, b in pairs) + " |",
             "|---|---|" + "---|" * len(pairs)]
    for cell in cells:
        ratios = [_fmt(_time_ratio(cell, a, b), ".2f", "×") for a, b in pairs]
        lines.append(f"| {cell['size']} | {cell['activation']} | {' | '.join(ratios)} |")
    return lines


def markdown(report: dict) -> str:
    """The report as markdown: speed, floors, saved memory, goals, logistic regression."""
    meta = report["meta"]
    lines = [f"torch {meta['torch']}, {meta['device']}, {meta['threads']} threads, "
             f"{meta['repeats']} interleaved repeats (at most 5 above 10 GFLOP per step), "
             f"medians; {meta.get('wall_s', '?')} s in all; load average "
             f"{meta['load_before']} before, {meta.get('load_after')} after.", "",
             "Speed-up = torch.nn time / variant time (higher is faster); ceiling = time of the "
             "step's matrix products alone with torch.mm / variant time.", "",
             *_speed_table(report["results"]), *_floors(report["results"])]
    if report.get("memory"):
        names = list(report["memory"][0]["ratios"])
        lines += ["", f"Saved for backward / activations ({report['memory'][0]['size']}; "
                  "unique storages, parameters and x, y excluded; activations = "
                  "Σ_l m n[l] over l = 1..L):", "",
                  "| g | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for row in report["memory"]:
            lines.append(f"| {row['activation']} | "
                         + " | ".join(_fmt(row["ratios"][k], ".3f", "×") for k in names) + " |")
    if report.get("targets"):
        lines += ["", "Goals (met = on the medians; best = the same ratio on each variant's "
                  "fastest block; rounds = the ratio of each round's two blocks, median and "
                  "quartiles):", "",
                  "| target | measured (median) | best block | rounds | goal | met |",
                  "|---|---|---|---|---|---|"]
        for t in report["targets"]:
            met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
            digits = ".5f" if "saved" in t["target"] else ".3f"  # 0.50012 is not 0.500
            paired = t.get("paired")
            rounds = "–" if not paired else f"{paired[0]:.3f} ({paired[1]:.3f}-{paired[2]:.3f})"
            lines.append(f"| {t['target']} | {_fmt(t['measured'], digits)} | "
                         f"{_fmt(t.get('best'), '.3f')} | {rounds} | {t['goal']} | {met} |")
    lr = report.get("logreg")
    if lr:
        lines += ["", f"Logistic regression, n_x = {lr['n_x']}, m = {lr['m']} (one iteration, "
                  "median of 9 after a warm-up; 3 for the loop): "
                  f"Algorithm 1.2 (loop over examples, numpy) {_time(lr['loop_s'])}, "
                  f"Algorithm 1.3 (vectorised, numpy) {_time(lr['vectorised_s'])} "
                  f"({lr['loop_s'] / lr['vectorised_s']:.0f}× faster), torchnn "
                  f"LogisticRegression.gd_step {_time(lr['torchnn_s'])}; same w after 3 "
                  f"iterations: {lr['same_result']}."]
    for note in report.get("notes", []):
        lines += ["", note]
    return "\n".join(lines) + "\n"
