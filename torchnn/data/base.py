"""The DataModule every torchnn data set is built on: a small table ``(X, y)`` held in memory.

A batch is rows, as everywhere in PyTorch: ``x`` has shape ``(m, n_x)`` and ``y`` has shape
``(m, 1)``. The seed writes examples as columns (``X`` of shape ``(n_x, m)``); transpose to compare.

The fitted state (feature names, standardisation, target scale, task) travels in checkpoints
through ``state_dict`` / ``load_state_dict`` (see :mod:`torchnn.data.fitted`);
:mod:`torchnn.data.predict` describes prediction.
"""

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, TensorDataset

from torchnn.data import fitted
from torchnn.data.checks import (
    TASKS,
    class_names,
    column_names,
    fit_scale,
    split_indices,
    validate_arrays,
    validate_options,
)
from torchnn.data.predict import PredictRows, describe_rows, read_new_rows


class TabularDataModule(LightningDataModule):
    """A table ``(X, y)`` split into train/val(/test), standardised with train statistics only.

    The split is a seeded permutation, so the same ``seed`` gives the same split on any machine;
    ``train_indices``, ``val_indices`` and ``test_indices`` name the rows of ``X`` in each split.
    Features are standardised, ``x' = (x - mean_) / std_``, with ``mean_`` and ``std_`` fitted on
    the training split alone (a feature with ``std == 0`` gets ``std_ = 1``). For regression the
    target can be standardised the same way; :meth:`inverse_transform_target` maps predictions back.
    :meth:`state_dict` holds this fitted state, so a checkpoint can predict new rows without the
    table (see :mod:`torchnn.data.predict`).

    Args:
        X: features, shape ``(m, n_x)``; any real dtype, must be finite. ``None`` builds a module
            without a table, for prediction only: its state comes from :meth:`load_state_dict`.
        y: targets, shape ``(m,)`` or ``(m, 1)``; labels in ``{0, 1}`` when ``task="binary"``,
            integer class labels ``0 .. C-1`` when ``task="multiclass"``.
        task: ``"binary"`` (labels 0/1), ``"multiclass"`` (one class out of C) or
            ``"regression"`` (real targets).
        batch_size: examples per batch; ``None`` means full batch (one batch per epoch holding
            the whole split, in a fixed order).
        val_fraction: share of examples held out for validation, in ``[0, 1)``. ``0.0`` means no
            held-out data: ``val_dataset`` is then the training split itself, so validation
            reports training metrics (the seed's setting, which trains and reports on all data).
        test_fraction: share of examples held out for testing, in ``[0, 1)``; ``0.0`` means no
            test split (``test_dataset`` is ``None`` and ``test_dataloader`` raises).
        seed: seed of the split permutation and of the mini-batch shuffling.
        standardize: standardise features with training-split statistics.
        standardize_target: standardise the target with training-split statistics
            (regression only; ignored for binary tasks).
        num_workers: DataLoader worker processes (0 loads in the main process).
        stratify: keep each class's share in every split (classification tasks only); the
            default ``False`` gives the plain seeded split.
        feature_names: names of the ``n_x`` columns (``None``: ``x1, x2, ...``); files of new
            rows are matched to them.
        target_name: name of the target, for files of new rows and for prediction files.
        classes: ``task="multiclass"`` only: the name of each class, label c named
            ``classes[c]`` (``None``: ``"0", "1", ..., "C-1"`` with C = the largest label + 1).

    Shape:
        - ``train_dataset[i]``: ``(x, y)``, ``x`` of shape ``(n_x,)`` and ``y`` of shape ``(1,)``
          (float32); for ``task="multiclass"`` ``y`` is the class index, a 0-d int64 tensor, so a
          batch's ``y`` has shape ``(m,)`` (what ``torch.nn.functional.cross_entropy`` takes).
        - ``full_train_tensors()``: ``X`` of shape ``(m_train, n_x)``, ``y`` of ``(m_train, 1)``
          (``(m_train,)`` int64 for multiclass).

    Examples:
        >>> dm = TabularDataModule(np.eye(4), np.array([0, 1, 0, 1]), task="binary",
        ...                        val_fraction=0.25)
        >>> dm.num_features
        4
        >>> dm.setup()
        >>> len(dm.train_dataset), len(dm.val_dataset)
        (3, 1)
    """

    delimiter = ","  # the field separator of CSV files of new rows (CSVDataModule sets its own)

    def __init__(
        self,
        X: np.ndarray | None,
        y: np.ndarray | None,
        task: str = "binary",  # "binary" or "regression"
        batch_size: int | None = None,  # None: full batch, one batch per epoch
        val_fraction: float = 0.2,  # a fifth held out for validation
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of split and shuffling
        standardize: bool = True,  # fit on the training split only
        standardize_target: bool = True,  # regression only: keeps the MSE near 1
        num_workers: int = 0,  # small tables: load in the main process
        stratify: bool = False,  # False keeps the splits of earlier versions
        feature_names: list[str] | None = None,  # None: x1, x2, ...
        target_name: str = "y",
        classes: list[str] | None = None,  # multiclass: None names them "0", ..., "C-1"
    ) -> None:
        super().__init__()
        validate_options(val_fraction, test_fraction, batch_size, num_workers)
        if stratify and task not in ("binary", "multiclass"):
            raise ValueError(f"stratify needs task='binary' or 'multiclass' (classes to keep in "
                             f"proportion), got task={task!r}")
        if X is None:  # prediction only: the fitted state comes from a checkpoint
            if task not in TASKS or feature_names is None:
                raise ValueError(f"a module without a table needs feature_names and a task in "
                                 f"{TASKS}; got {feature_names} and {task!r}")
            self._X = self._y = None
            self.train_indices = self.val_indices = self.test_indices = np.arange(0)
        else:
            self._X, self._y = validate_arrays(X, y, task)
            # rows of the table in each split (val and test may be empty); fixed by ``seed``
            self.train_indices, self.val_indices, self.test_indices = split_indices(
                len(self._X), val_fraction, test_fraction, seed, self._y if stratify else None
            )
        names = column_names(len(feature_names or []) if self._X is None else self._X.shape[1],
                             feature_names)
        # NOTE: the arrays are data, not hyperparameters: leaving them out keeps checkpoints
        # loadable with ``torch.load(weights_only=True)`` (every saved value is a primitive).
        # Lightning collects the arguments of every ``__init__`` in the chain; keep only those
        # of the class being built, so ``load_from_checkpoint`` can call its constructor.
        own = inspect.signature(type(self).__init__).parameters
        base_only = [name for name in inspect.signature(TabularDataModule.__init__).parameters
                     if name not in own]
        self.save_hyperparameters(ignore=["X", "y", *base_only])
        self.task = task
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.seed = seed
        self.standardize = standardize
        self.standardize_target = standardize_target and task == "regression"
        self.num_workers = num_workers
        self.stratify = stratify
        self.feature_names, self.target_name = names, str(target_name)
        #: multiclass: the class names, label c named ``classes[c]``; None for other tasks
        self.classes: list[str] | None = class_names(task, self._y, classes)
        self.mean_: np.ndarray | None = None  # the fitted state: set by setup or load_state_dict
        self.std_: np.ndarray | None = None
        self.target_mean_, self.target_std_ = 0.0, 1.0
        #: what ``predict`` reads: ``None`` (the held-out split), a CSV path or an array of rows
        self.predict_data: str | Path | np.ndarray | None = None
        self.predict_rows: PredictRows | None = None  # set by predict_dataloader
        self.train_dataset: TensorDataset | None = None
        self.val_dataset: TensorDataset | None = None
        self.test_dataset: TensorDataset | None = None

    @property
    def num_features(self) -> int:
        """Number of input features ``n_x`` (available right after construction)."""
        return len(self.feature_names)

    @property
    def num_classes(self) -> int | None:
        """C: the number of classes (2 for a binary task, None for regression)."""
        if self.task == "multiclass":
            return None if self.classes is None else len(self.classes)
        return 2 if self.task == "binary" else None

    @property
    def num_outputs(self) -> int:
        """n[L], the output units a network for this data needs: C for a multiclass task (a
        softmax output), 1 otherwise (one sigmoid unit, or one value)."""
        return self.num_classes if self.task == "multiclass" and self.num_classes else 1

    @property
    def num_examples(self) -> int:
        """Number of examples ``m`` in the whole table, before splitting (0 without a table)."""
        return 0 if self._X is None else int(self._X.shape[0])

    def setup(self, stage: str | None = None) -> None:
        """Fit the standardisation on the training split (unless restored) and build datasets."""
        if self._X is None or self._y is None or self.train_dataset is not None:  # per stage
            return
        X, Y = self._X, self._y  # the table (a name the type checker sees in dataset())
        train, val, test = self.train_indices, self.val_indices, self.test_indices
        if self.mean_ is None:  # not restored from a checkpoint: fit on the training split
            self.mean_, self.std_ = fit_scale(X[train], self.standardize)
            y_mean, y_std = fit_scale(Y[train, None], self.standardize_target)
            self.target_mean_, self.target_std_ = float(y_mean[0]), float(y_std[0])

        def dataset(index: np.ndarray) -> TensorDataset:
            x = (X[index] - self.mean_) / self.std_  # (m_split, n_x)
            if self.task == "multiclass":  # class indices (m_split,) int64
                t = torch.as_tensor(Y[index], dtype=torch.int64)
            else:
                t = torch.as_tensor((Y[index, None] - self.target_mean_) / self.target_std_,
                                    dtype=torch.float32)  # (m_split, 1)
            return TensorDataset(torch.as_tensor(x, dtype=torch.float32), t)

        self.train_dataset = dataset(train)
        self.val_dataset = dataset(val) if len(val) else self.train_dataset
        self.test_dataset = dataset(test) if len(test) else None

    # ------------------------------------------------------------------------- fitted state

    def state_dict(self) -> dict[str, Any]:
        """What predicting new rows needs; Lightning saves it in every checkpoint.

        Keys: ``task`` (str), ``feature_names`` (list of str, in column order), ``target_name``
        (str), ``mean`` and ``std`` (float64 tensors ``(n_x,)``), ``target_mean`` and
        ``target_std`` (floats; 0 and 1 unless the target is standardised), and ``classes``
        (list of str) for a multiclass task. Empty before a fit or a restore. Every value loads
        with ``torch.load(weights_only=True)``.
        """
        return fitted.fitted_state(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s fitted state (Lightning calls it when loading a checkpoint).

        The statistics replace any fitted on this module's table; its datasets are rebuilt.
        """
        fitted.restore(self, state_dict)

    @staticmethod
    def from_fitted_state(state: dict[str, Any]) -> "TabularDataModule":
        """A module without a table, for prediction only, from a :meth:`state_dict`.

        E.g. ``torch.load(ckpt, weights_only=True)["CSVDataModule"]``: no data file is needed.
        """
        dm = TabularDataModule(None, None, task=state["task"],
                               feature_names=state["feature_names"])
        dm.load_state_dict(state)
        return dm

    _require_state = fitted.require_state  # see data/fitted.py

    def full_train_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole standardised training split: ``X`` (m_train, n_x) and ``y`` (m_train, 1)."""
        self._require_table()
        assert self.train_dataset is not None
        X, y = self.train_dataset.tensors
        return X, y

    def transform_features(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Standardise new inputs ``x`` ``(k, n_x)`` with the training statistics (float32)."""
        self._require_state()
        x = torch.as_tensor(x, dtype=torch.float64)
        mean, std = torch.from_numpy(self.mean_), torch.from_numpy(self.std_)
        return ((x - mean) / std).to(torch.float32)  # (k, n_x)

    def inverse_transform_target(self, y: torch.Tensor) -> torch.Tensor:
        """Map standardised targets or predictions back to the original units."""
        self._require_state()
        return y * self.target_std_ + self.target_mean_

    # ------------------------------------------------------------------------- prediction

    def prepare_predict(self, data: str | Path | np.ndarray | torch.Tensor) -> PredictRows:
        """New rows for a model, standardised with the training statistics.

        ``data`` is a CSV file (columns: the training features in any order, the target
        optional; ``delimiter`` separates fields) or an array ``(k, n_x)`` in feature order.
        """
        self._require_state()
        x, y, source = read_new_rows(data, self.feature_names, self.target_name,
                                     self.task, self.delimiter)
        row = torch.arange(len(x))  # the data-row number, counted from 0
        return PredictRows(self.transform_features(x), row, y, source)

    def _held_out_rows(self) -> PredictRows:
        self._require_table()
        assert self._X is not None and self._y is not None  # _require_table raised otherwise
        index = self.test_indices if len(self.test_indices) else (
            self.val_indices if len(self.val_indices) else self.train_indices)
        index = np.sort(index)  # table order
        y = torch.from_numpy(self._y[index, None])  # (k, 1), own units
        return PredictRows(self.transform_features(self._X[index]), torch.from_numpy(index), y,
                           self.predict_description)

    @property
    def predict_description(self) -> str:
        """One line saying which rows ``predict`` uses (for the command line to print)."""
        return describe_rows(self.predict_data, self._X is not None, self.num_examples,
                             len(self.test_indices), len(self.val_indices))

    # ------------------------------------------------------------------------- loaders

    def _require_table(self) -> None:
        if self._X is None:
            raise ValueError(f"{type(self).__name__} has no table ({self.no_table}); expected "
                             f"one to fit, validate, test or predict a held-out split")
        self.setup()

    no_table = "built for prediction only"  # why ``X`` is None, for the error above

    def _loader(self, dataset: TensorDataset, train: bool) -> DataLoader:
        if self.batch_size is None:  # full batch: one batch, whole split, fixed order
            return DataLoader(dataset, batch_size=len(dataset), shuffle=False,
                              num_workers=self.num_workers)
        generator = torch.Generator().manual_seed(self.seed) if train else None
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=train,
                          generator=generator, num_workers=self.num_workers)

    def train_dataloader(self) -> DataLoader:
        self._require_table()
        assert self.train_dataset is not None
        return self._loader(self.train_dataset, train=True)

    def val_dataloader(self) -> DataLoader:
        self._require_table()
        assert self.val_dataset is not None
        return self._loader(self.val_dataset, train=False)

    def test_dataloader(self) -> DataLoader:
        self._require_table()
        if self.test_dataset is None:
            raise ValueError(
                f"test_fraction is {self.test_fraction}, so there is no test split; "
                f"expected test_fraction > 0 (e.g. 0.2) to test"
            )
        return self._loader(self.test_dataset, train=False)

    def predict_dataloader(self) -> DataLoader:
        """Batches ``(x, row, y)`` of :attr:`predict_data`, or of the held-out split by default.

        ``y`` (the target in its own units) is left out when the rows have none; the whole
        set is kept in :attr:`predict_rows` for a prediction writer.
        """
        self.predict_rows = (self._held_out_rows() if self.predict_data is None
                             else self.prepare_predict(self.predict_data))
        return self._loader(self.predict_rows.dataset(), train=False)
