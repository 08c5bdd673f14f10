"""The user's own table, read from a CSV file (numpy and the standard library, no pandas).

Every error names the file, the 1-based line (the header is line 1), the column and the value;
:mod:`torchnn.data.reader` reads large files at numpy.loadtxt's speed. ``predict_path`` names a
file of new rows to predict; with it the training file may be gone, since a checkpoint brings the
training statistics (see :mod:`torchnn.data.predict`).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from torchnn.data.base import TabularDataModule
from torchnn.data.checks import TASKS
from torchnn.data.reader import read_csv_header, read_csv_values


def _column_indices(
    header: list[str], target: str, features: Sequence[str] | None, path: str
) -> tuple[int, list[int]]:
    """Positions of the target column and of the feature columns in ``header``."""
    if features is None:
        features = [name for name in header if name != target]
    if len(features) == 0:
        raise ValueError(f"features is empty for '{path}'; expected at least one feature column")
    if target in features:
        raise ValueError(f"target column '{target}' is also listed in features {list(features)}")
    for name in (target, *features):
        if name not in header:
            raise ValueError(
                f"column '{name}' not found in '{path}'; available columns: {header}"
            )
    return header.index(target), [header.index(name) for name in features]


def read_csv_table(
    path: str | Path,
    target: str,
    features: Sequence[str] | None = None,
    task: str = "binary",
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a numeric table with a header line from a CSV file.

    Args:
        path: the CSV file; its first line names the columns.
        target: name of the target column.
        features: names of the feature columns, in order; ``None`` takes every other column.
        task: ``"binary"`` (target must be 0 or 1) or ``"regression"`` (any finite number).
        delimiter: the field separator.

    Returns:
        ``X`` of shape ``(m, n_x)`` float64, ``y`` of shape ``(m,)`` float64, feature names.
        Both are views of one ``(m, n_x + 1)`` array (see :mod:`torchnn.data.reader` for speed).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a missing column, a ragged row, an empty, non-numeric, NaN or infinite cell,
            a binary target outside {0, 1}, or no data rows.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    header = read_csv_header(path, delimiter)
    t_index, f_indices = _column_indices(header, target, features, str(path))
    binary = len(f_indices) if task == "binary" else None  # the target comes last
    values = read_csv_values(path, header, [*f_indices, t_index], delimiter, binary)
    return values[:, :-1], values[:, -1], [header[i] for i in f_indices]


class CSVDataModule(TabularDataModule):
    """A DataModule over the user's own CSV table (see :func:`read_csv_table` for the format).

    The file is read and checked in ``__init__``, so errors surface before training starts and
    ``num_features`` is known at once. ``feature_names`` lists the feature columns in order.
    ``predict`` reads ``predict_path`` when given, else the held-out split.

    Args:
        path: the CSV file; its first line names the columns.
        target: name of the target column.
        features: names of the feature columns; ``None`` takes every column but the target.
        task: ``"binary"`` (target 0 or 1) or ``"regression"``.
        delimiter: the field separator.
        batch_size: examples per batch; ``None`` is full batch (one batch per epoch).
        val_fraction: share held out for validation; ``0.0`` validates on the training split.
        test_fraction: share held out for testing; ``0.0`` means no test split.
        seed: seed of the split and of mini-batch shuffling.
        standardize: standardise features with training-split statistics.
        standardize_target: standardise the target with training-split statistics
            (regression only; ignored for ``task="binary"``).
        num_workers: DataLoader worker processes.
        stratify: keep each class's share in every split (``task="binary"`` only).
        predict_path: a CSV file of new rows for ``predict``: the training features in any
            order, the target column optional. With it a missing ``path`` is allowed: the
            module then has no table and takes its statistics from a checkpoint
            (``load_state_dict``); until then ``num_features`` counts the file's columns.
    """

    def __init__(
        self,
        path: str,
        target: str,
        features: list[str] | None = None,  # None: every column but the target
        task: str = "binary",  # "binary" or "regression"
        delimiter: str = ",",  # the csv module's default
        batch_size: int | None = None,  # None: full batch
        val_fraction: float = 0.2,  # a fifth held out for validation
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of split and shuffling
        standardize: bool = True,  # fit on the training split only
        standardize_target: bool = True,  # regression only: keeps the MSE near 1
        num_workers: int = 0,  # small tables: load in the main process
        stratify: bool = False,  # False keeps the splits of earlier versions
        predict_path: str | None = None,  # None: predict the held-out split
    ) -> None:
        # NOTE: saved hyperparameters are read from these locals; keep them primitive (a
        # pathlib.Path in a checkpoint would not load with torch.load(weights_only=True)).
        path, features = str(path), None if features is None else list(features)
        predict_path = None if predict_path is None else str(predict_path)
        X = y = None
        if predict_path is None or Path(path).is_file():
            X, y, names = read_csv_table(path, target, features, task, delimiter)
        else:  # prediction from a checkpoint: the new rows' columns stand in until it is loaded
            header = read_csv_header(predict_path, delimiter)
            names = features if features is not None else [c for c in header if c != target]
        super().__init__(X, y, task=task, batch_size=batch_size, val_fraction=val_fraction,
                         test_fraction=test_fraction, seed=seed, standardize=standardize,
                         standardize_target=standardize_target, num_workers=num_workers,
                         stratify=stratify, feature_names=names, target_name=target)
        self.delimiter, self.predict_data = delimiter, predict_path
        self.no_table = f"CSV file not found: '{path}'"
