"""Plots of a run: the cost J against the iteration, and a 2-D decision boundary.

NOTE: matplotlib is imported inside the functions (it costs about half a second at start-up) and
through ``Figure`` + ``FigureCanvasAgg``, never ``pyplot``, so no global backend is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = ["plot_cost", "plot_decision_boundary"]


def _figure(width: float = 6.4, height: float = 4.8):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def plot_cost(costs: Sequence[float], path: str | Path, title: str = "Cost J") -> Path:
    """Save J against the iteration (the seed's cost curve) as a PNG at ``path``."""
    if len(costs) == 0:
        raise ValueError(f"plot_cost: no cost values to plot (got {len(costs)}); expected >= 1")
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(np.arange(len(costs)), np.asarray(costs, dtype=np.float64), linewidth=1.2)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


@torch.no_grad()
def plot_decision_boundary(
    predict: Callable[[Tensor], Tensor],
    x: Tensor,
    y: Tensor,
    path: str | Path,
    title: str = "Decision boundary",
    steps: int = 300,
) -> Path:
    """Save the regions where ``predict`` gives A^[L] > 0.5, with the points coloured by label.

    Args:
        predict: maps a batch ``(k, 2)`` to probabilities ``(k, 1)``.
        x: the points, shape ``(m, 2)``.
        y: their labels in {0, 1}, shape ``(m,)`` or ``(m, 1)``.
        path: where to write the PNG.
        steps: grid points per axis.
    """
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary needs 2-D points of shape (m, 2), got {tuple(x.shape)}"
        )
    xs = x.detach().float().cpu()
    lo, hi = xs.min(0).values - 0.5, xs.max(0).values + 0.5
    g0, g1 = torch.linspace(lo[0], hi[0], steps), torch.linspace(lo[1], hi[1], steps)
    grid0, grid1 = torch.meshgrid(g0, g1, indexing="xy")  # (steps, steps) each
    grid = torch.stack([grid0.reshape(-1), grid1.reshape(-1)], dim=1)  # (steps², 2)
    probs = predict(grid).float().cpu().reshape(steps, steps)
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    regions = (probs > 0.5).float().numpy()  # 1 where the network predicts y = 1
    ax.contourf(grid0.numpy(), grid1.numpy(), regions, levels=[-0.5, 0.5, 1.5], cmap="Spectral",
                alpha=0.6)
    labels = y.detach().reshape(-1).cpu().numpy()
    ax.scatter(xs[:, 0].numpy(), xs[:, 1].numpy(), c=labels, cmap="Spectral", s=12,
               edgecolors="k", linewidths=0.3)
    ax.set_xlabel("x1 (standardised)")
    ax.set_ylabel("x2 (standardised)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)
