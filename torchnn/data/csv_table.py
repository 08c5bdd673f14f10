"""The user's own table, read from a CSV file with the standard library (no pandas).

Every error names the file, the 1-based line (the header is line 1), the column and the value.
"""

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from torchnn.data.base import TASKS, TabularDataModule


def _column_indices(
    header: list[str], target: str, features: Sequence[str] | None, path: str
) -> tuple[int, list[int]]:
    """Positions of the target column and of the feature columns in ``header``."""
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ValueError(f"'{path}' line 1: duplicate column names {duplicates}; expected unique")
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


def _parse_cell(cell: str, column: str, line: int, path: str) -> float:
    """One cell as a finite float, or a ValueError naming file, line, column and value."""
    where = f"'{path}' line {line}, column '{column}'"
    text = cell.strip()
    if not text:
        raise ValueError(f"{where}: empty cell (missing value); expected a finite number")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: non-numeric value {cell!r}; expected a number") from None
    if math.isnan(value):
        raise ValueError(f"{where}: NaN value {cell!r}; expected a finite number")
    if math.isinf(value):
        raise ValueError(f"{where}: infinite value {cell!r}; expected a finite number")
    return value


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

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a missing column, a ragged row, an empty, non-numeric, NaN or infinite cell,
            a binary target outside {0, 1}, or no data rows.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"CSV file not found: '{path}'; expected an existing file")
    X_rows: list[list[float]] = []
    y_rows: list[float] = []
    # NOTE: utf-8-sig drops the byte-order mark that spreadsheet programs put before the header.
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"CSV file '{path}' is empty; expected a header line, then data rows")
        header = [name.strip() for name in header]
        t_index, f_indices = _column_indices(header, target, features, str(path))
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line (for instance at the end of the file)
            line = reader.line_num  # 1-based, header included; the last line of this record
            if len(row) != len(header):
                raise ValueError(
                    f"'{path}' line {line}: {len(row)} fields, expected {len(header)} "
                    f"(one per header column)"
                )
            X_rows.append([_parse_cell(row[i], header[i], line, str(path)) for i in f_indices])
            label = _parse_cell(row[t_index], target, line, str(path))
            if task == "binary" and label not in (0.0, 1.0):
                raise ValueError(
                    f"'{path}' line {line}, target column '{target}': value "
                    f"{row[t_index]!r} is not a binary label; expected 0 or 1"
                )
            y_rows.append(label)
    if not y_rows:
        raise ValueError(f"CSV file '{path}' has no data rows; expected at least one after line 1")
    X = np.asarray(X_rows, dtype=np.float64).reshape(len(y_rows), len(f_indices))
    return X, np.asarray(y_rows, dtype=np.float64), [header[i] for i in f_indices]


class CSVDataModule(TabularDataModule):
    """A DataModule over the user's own CSV table (see :func:`read_csv_table` for the format).

    The file is read and checked in ``__init__``, so errors surface before training starts and
    ``num_features`` is known at once. ``feature_names`` lists the feature columns in order.

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
    ) -> None:
        # NOTE: saved hyperparameters are read from these locals; keep them primitive (a
        # pathlib.Path in a checkpoint would not load with torch.load(weights_only=True)).
        path, features = str(path), None if features is None else list(features)
        X, y, self.feature_names = read_csv_table(path, target, features, task, delimiter)
        super().__init__(X, y, task=task, batch_size=batch_size, val_fraction=val_fraction,
                         test_fraction=test_fraction, seed=seed, standardize=standardize,
                         standardize_target=standardize_target, num_workers=num_workers)
