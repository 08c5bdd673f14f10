"""Predictions on new rows: the data side, for the ``predict`` command and for Python.

A data module's fitted state (feature names and order, the standardisation's mean and scale, the
target's name and scale, the task) is :meth:`TabularDataModule.state_dict`; Lightning writes it
into every checkpoint under the class name and calls ``load_state_dict`` when it loads one, so
new rows are standardised with the **training** statistics even when the training file is gone.

From Python::

    model = DeepNetworkModule.load_from_checkpoint(ckpt)
    dm = CSVDataModule.load_from_checkpoint(ckpt, predict_path="new.csv")  # no training CSV
    # or, for any data set, without files: TabularDataModule.from_fitted_state(
    #     torch.load(ckpt, weights_only=True)["CSVDataModule"])  (the key: the class's name)
    rows = dm.prepare_predict("new.csv")  # or an array (k, n_x) in feature order
    a = model(rows.x)                     # probabilities, or standardised values:
    values = dm.inverse_transform_target(a)  # in the target's own units (regression)

With a Trainer, ``trainer.predict(model, datamodule=dm)`` reads :attr:`predict_data` (set by
``CSVDataModule(predict_path=...)``, or any CSV path or array assigned to it) or, by default,
the held-out split that :attr:`predict_description` names in one line. Batches are
``(x, row, y)``, or ``(x, row)`` when the rows carry no target, and ``dm.predict_rows`` keeps the
whole :class:`PredictRows`, so a prediction writer can put each prediction next to its row number
and target. A file whose columns are not the training features (the target may be present or
not) gets a one-line error naming the missing and extra columns; it is raised as soon as the
state is restored. Restore the data module before the model (for instance
``dm.load_state_dict(torch.load(ckpt, weights_only=True)[type(dm).__qualname__])``) to see
that error before a model with the wrong input size fails to load.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from torchnn.data.checks import check_finite
from torchnn.data.reader import match_columns, read_csv_header, read_csv_values


@dataclass(frozen=True)
class PredictRows:
    """Rows ready for a model, with what a prediction writer needs beside them.

    Attributes:
        x: the inputs standardised with the training statistics, ``(k, n_x)`` float32.
        row: each row's number in its source, ``(k,)`` int64: the data-row number counted from
            0 (the first row after the header is 0; blank lines are not rows) for a file or an
            array, the row of the table for a held-out split.
        y: the target in its own units, ``(k, 1)`` float64, or ``None`` when the rows have none.
        source: the rows in words, e.g. ``"every row of 'new.csv'"``.
    """

    x: torch.Tensor
    row: torch.Tensor
    y: torch.Tensor | None
    source: str

    def dataset(self) -> TensorDataset:
        """``(x, row, y)`` per row, or ``(x, row)`` without a target."""
        tensors = (self.x, self.row) if self.y is None else (self.x, self.row, self.y)
        return TensorDataset(*tensors)


def read_new_rows(
    data: str | Path | np.ndarray | torch.Tensor, features: list[str], target: str, task: str,
    delimiter: str = ",",
) -> tuple[np.ndarray, torch.Tensor | None, str]:
    """Raw features ``(k, n_x)`` float64, the target ``(k, 1)`` or ``None``, and a description."""
    n_x = len(features)
    if isinstance(data, (str, Path)):
        path = str(data)
        header = read_csv_header(path, delimiter)
        columns, has_target = match_columns(header, features, target, path)
        binary = n_x if has_target and task == "binary" else None
        values = read_csv_values(path, header, columns, delimiter, binary)
        y = torch.from_numpy(np.ascontiguousarray(values[:, n_x:])) if has_target else None
        return values[:, :n_x], y, f"every row of '{path}'"
    x = np.asarray(data.detach().cpu() if isinstance(data, torch.Tensor) else data, np.float64)
    if x.ndim != 2 or x.shape[1] != n_x or len(x) == 0:
        raise ValueError(f"new rows must have shape (k, {n_x}) with k >= 1, one column per "
                         f"feature {features}; got shape {x.shape}")
    check_finite("x", x)
    return x, None, f"the {len(x)} rows of the given array"


def describe_rows(data: str | Path | np.ndarray | None, has_table: bool, m: int, test: int,
                  val: int) -> str:
    """Which rows ``predict`` reads, in one line: ``data`` (a file or an array) or, without it,
    the held-out split of a table of ``m`` rows (``test`` and ``val`` rows held out)."""
    if isinstance(data, (str, Path)):
        return f"every row of '{data}'"
    if data is not None:
        return f"the {len(data)} rows of the given array"
    if not has_table:
        return "nothing: no table and no predict_data"
    if test:
        return f"the held-out test split: {test} of the {m} rows, in table order"
    if val:
        return f"the held-out validation split: {val} of the {m} rows, in table order"
    return f"the training split: all {m} rows (val_fraction and test_fraction are 0.0)"
