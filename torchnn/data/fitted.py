"""The fitted state of a ``TabularDataModule``: save it, restore it, require it.

The state (feature names, standardisation, target scale, task, class names) is what predicting
new rows needs; Lightning saves :meth:`TabularDataModule.state_dict` in every checkpoint and calls
``load_state_dict`` when it loads one (see :mod:`torchnn.data.predict`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from torchnn.data.reader import match_columns, read_csv_header

if TYPE_CHECKING:
    from torchnn.data.base import TabularDataModule

__all__ = ["fitted_state", "require_state", "restore"]


def fitted_state(dm: TabularDataModule) -> dict[str, Any]:
    """``dm``'s fitted state, with the keys :meth:`TabularDataModule.state_dict` lists."""
    dm.setup()
    if dm.mean_ is None:
        return {}
    state = {"task": dm.task, "feature_names": list(dm.feature_names),
             "target_name": dm.target_name, "mean": torch.tensor(dm.mean_),
             "std": torch.tensor(dm.std_), "target_mean": dm.target_mean_,
             "target_std": dm.target_std_}
    if dm.classes is not None:
        state["classes"] = list(dm.classes)
    return state


def restore(dm: TabularDataModule, state: dict[str, Any]) -> None:
    """Set ``dm``'s fitted state from ``state`` (same task, and same features if ``dm`` has a
    table); its datasets are dropped, to be rebuilt with the restored statistics."""
    names, task = list(state["feature_names"]), state["task"]
    if task != dm.task:
        raise ValueError(f"the checkpoint's data task is {task!r} but {type(dm).__name__} "
                         f"has task {dm.task!r}; expected the same task")
    if dm._X is not None and names != dm.feature_names:
        raise ValueError(f"the checkpoint's features {names} differ from this table's "
                         f"features {dm.feature_names}; expected the same, in order")
    dm.feature_names, dm.target_name = names, str(state["target_name"])
    dm.mean_ = state["mean"].to(torch.float64).cpu().numpy()
    dm.std_ = state["std"].to(torch.float64).cpu().numpy()
    dm.target_mean_ = float(state["target_mean"])
    dm.target_std_ = float(state["target_std"])
    if "classes" in state:
        dm.classes = [str(c) for c in state["classes"]]
    dm.train_dataset = dm.val_dataset = dm.test_dataset = dm.predict_rows = None
    if isinstance(dm.predict_data, (str, Path)):  # a file that cannot match fails now
        match_columns(read_csv_header(dm.predict_data, dm.delimiter), dm.feature_names,
                      dm.target_name, str(dm.predict_data))


def require_state(dm: TabularDataModule) -> None:
    """Raise unless ``dm`` has a fitted state (fitted on its table, or restored)."""
    dm.setup()
    if dm.mean_ is None:
        raise ValueError(
            f"{type(dm).__name__} has no table and no restored state; expected "
            f"load_state_dict first (e.g. {type(dm).__name__}.load_from_checkpoint(path))"
        )
