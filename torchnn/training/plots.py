"""Pictures of a run: the cost J (training, every iteration; validation, at each validation),
the metrics over the epochs, and a 2-D decision boundary.

Each ``*_figure`` function returns a matplotlib ``Figure`` (for a file, or a logger's
``add_figure``); each ``plot_*`` function saves one as a PNG and returns its path.

NOTE: matplotlib is imported inside the functions (it costs about half a second at start-up) and
through ``Figure`` + ``FigureCanvasAgg``, never ``pyplot``, so no global backend is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["cost_figure", "decision_boundaries_figure", "decision_boundary_figure",
           "metrics_figure", "plot_cost", "plot_decision_boundary", "plot_metrics"]

Series = tuple[Sequence[float], Sequence[float]]  # (x, y): epochs or iterations, values


def _figure(width: float = 6.4, height: float = 4.8) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _margins(fig: Any, left: float = 0.8, right: float = 0.25, bottom: float = 0.6,
             top: float = 0.45, wspace: float = 0.25, hspace: float = 0.3) -> None:
    """Fixed margins, in inches. NOTE: not ``tight_layout``, which measures every label and
    costs as much as drawing the figure (the pictures are made at the end of every run)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace, hspace=hspace)


def _save(fig: Any, path: str | Path) -> Path:
    fig.savefig(path)
    return Path(path)


def cost_figure(costs: Sequence[float], title: str = "Cost J",
                validation: Series | None = None) -> Any:
    """J against the iteration (the seed's cost curve); ``validation`` adds ``(iterations, J)``
    of the validation split, where the gap between the two shows overfitting."""
    if len(costs) == 0:
        raise ValueError(f"plot_cost: no cost values to plot (got {len(costs)}); expected >= 1")
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(np.arange(len(costs)), np.asarray(costs, dtype=np.float64), linewidth=1.2,
            label="training J (every iteration)")
    if validation is not None and len(validation[0]):
        ax.plot(np.asarray(validation[0]), np.asarray(validation[1], dtype=np.float64),
                marker="o", markersize=3, linewidth=1.2, label="validation J")
        ax.legend(loc="upper right")  # NOTE: "best" searches 10,000 points; J falls from there
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    _margins(fig)
    return fig


def plot_cost(costs: Sequence[float], path: str | Path, title: str = "Cost J",
              validation: Series | None = None) -> Path:
    """Save :func:`cost_figure` as a PNG at ``path``."""
    return _save(cost_figure(costs, title, validation), path)


def metrics_figure(history: Mapping[str, Mapping[str, Series]], title: str = "Metrics") -> Any:
    """One panel per metric (``{"acc": {"train": (epochs, values), "val": ...}}``), one line per
    stage, against the epoch."""
    names = [name for name, stages in history.items() if any(len(s[0]) for s in stages.values())]
    if not names:
        raise ValueError("plot_metrics: no metric values to plot; expected at least one series")
    fig = _figure(4.0 * len(names), 3.6)
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        for stage, (x, y) in history[name].items():
            if len(x):
                ax.plot(np.asarray(x), np.asarray(y, dtype=np.float64), marker="o",
                        markersize=2.5, linewidth=1.2, label=stage)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    _margins(fig, left=0.6, top=0.7)
    return fig


def plot_metrics(history: Mapping[str, Mapping[str, Series]], path: str | Path,
                 title: str = "Metrics") -> Path:
    """Save :func:`metrics_figure` as a PNG at ``path``."""
    return _save(metrics_figure(history, title), path)


Points = list[tuple[Tensor, Tensor, str, str]]  # (x, y, marker, stage) of each point set


def _check_points(x: Tensor) -> None:
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary needs 2-D points of shape (m, 2), got {tuple(x.shape)}"
        )


def _boundary_panel(ax: Any, predict: Callable[[Tensor], Tensor], points: Points, steps: int,
                    k: int = 2) -> tuple[Any, int]:
    """Fill ``ax`` with the predicted classes over a grid around ``points`` and the points
    coloured by their label; returns the colour map and the number of classes."""
    from matplotlib import colormaps

    xs = torch.cat([p[0].detach().float().cpu() for p in points])
    lo, hi = xs.min(0).values - 0.5, xs.max(0).values + 0.5
    g0, g1 = torch.linspace(lo[0], hi[0], steps), torch.linspace(lo[1], hi[1], steps)
    grid0, grid1 = torch.meshgrid(g0, g1, indexing="xy")  # (steps, steps) each
    grid = torch.stack([grid0.reshape(-1), grid1.reshape(-1)], dim=1)  # (steps², 2)
    probs = predict(grid).float().cpu().reshape(steps * steps, -1)  # (steps², 1 or C)
    regions = (probs[:, 0] > 0.5).long() if probs.shape[1] == 1 else probs.argmax(1)
    labels = [p[1].detach().reshape(-1).long().cpu() for p in points]
    k = max(k, probs.shape[1], *(int(t.max()) + 1 for t in labels if len(t)))
    colours = colormaps["Spectral"].resampled(k)
    ax.contourf(grid0.numpy(), grid1.numpy(), regions.reshape(steps, steps).numpy(),
                levels=np.arange(k + 1) - 0.5, cmap=colours, alpha=0.45)
    for (px, _, marker, _), py in zip(points, labels):
        px = px.detach().float().cpu()
        ax.scatter(px[:, 0].numpy(), px[:, 1].numpy(), c=colours(py.numpy()), marker=marker,
                   s=14, edgecolors="k", linewidths=0.3)
    return colours, k


@torch.no_grad()
def decision_boundary_figure(
    predict: Callable[[Tensor], Tensor],
    x: Tensor,
    y: Tensor,
    title: str = "Decision boundary",
    steps: int = 200,
    validation: tuple[Tensor, Tensor] | None = None,
    class_names: Sequence[str] | None = None,
    axis_labels: Sequence[str] = ("x1", "x2"),
) -> Any:
    """The regions of each predicted class, with the points coloured by their label.

    Args:
        predict: maps a batch ``(k, 2)`` to probabilities: ``(k, 1)`` (P(y = 1); class 1 where
            above 0.5) or ``(k, C)`` (one per class; the most probable class).
        x: the training points, shape ``(m, 2)``; drawn as circles.
        y: their labels, class indices, shape ``(m,)`` or ``(m, 1)``.
        steps: grid points per axis.
        validation: ``(x, y)`` of validation points, drawn as triangles.
        class_names: the legend's name of each class (default ``y = 0``, ``y = 1``, ...).
        axis_labels: the names of the two features.
    """
    _check_points(x)
    from matplotlib.lines import Line2D

    points: Points = [(x, y, "o", "training")]
    if validation is not None and len(validation[0]):
        points.append((validation[0], validation[1], "^", "validation"))
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    colours, k = _boundary_panel(ax, predict, points, steps)
    names = list(class_names) if class_names is not None else [f"y = {c}" for c in range(k)]
    handles = [Line2D([], [], marker="s", linestyle="", color=colours(c), markersize=8,
                      label=names[c]) for c in range(k)]
    handles += [Line2D([], [], marker=marker, linestyle="", color="0.5", markeredgecolor="k",
                       label=f"{stage} points") for _, _, marker, stage in points]
    ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.8)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title)
    _margins(fig, left=0.7)
    return fig


@torch.no_grad()
def decision_boundaries_figure(
    panels: Sequence[tuple[str, Callable[[Tensor], Tensor]]],
    x: Tensor,
    y: Tensor,
    title: str = "Decision boundaries",
    steps: int = 200,
    columns: int = 4,
) -> Any:
    """One decision-boundary panel per ``(panel title, predict)``, on the same points (the
    course's figure of its hidden-layer sizes); ``predict`` as in
    :func:`decision_boundary_figure`."""
    _check_points(x)
    if not panels:
        raise ValueError("decision_boundaries_figure: no panels; expected at least one")
    rows = -(-len(panels) // columns)  # ceil
    cols = min(columns, len(panels))
    fig = _figure(3.2 * cols, 3.0 * rows + 0.4)
    for i, (name, predict) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        _boundary_panel(ax, predict, [(x, y, "o", "training")], steps)
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    _margins(fig, left=0.15, right=0.15, bottom=0.15, top=0.75, wspace=0.08, hspace=0.15)
    return fig


def plot_decision_boundary(
    predict: Callable[[Tensor], Tensor],
    x: Tensor,
    y: Tensor,
    path: str | Path,
    title: str = "Decision boundary",
    steps: int = 200,
    validation: tuple[Tensor, Tensor] | None = None,
    class_names: Sequence[str] | None = None,
    axis_labels: Sequence[str] = ("x1", "x2"),
) -> Path:
    """Save :func:`decision_boundary_figure` as a PNG at ``path``."""
    return _save(decision_boundary_figure(predict, x, y, title, steps, validation, class_names,
                                          axis_labels), path)
