"""The DataModule every torchnn data set is built on: a small table ``(X, y)`` held in memory.

A batch is rows, as everywhere in PyTorch: ``x`` has shape ``(m, n_x)`` and ``y`` has shape
``(m, 1)``. The seed writes examples as columns (``X`` of shape ``(n_x, m)``); transpose to compare.
"""

import inspect

import numpy as np
import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, TensorDataset

TASKS = ("binary", "regression")

# ----------------------------------------------------------------------------- validation


def _validate_arrays(X: np.ndarray, y: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes, finiteness and labels; return ``X`` as (m, n_x) and ``y`` as (m,) float64."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D with shape (m, n_x), got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must have shape (m,) or (m, 1), got shape {y.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"data is empty: X has shape {X.shape}, expected m >= 1 rows, n_x >= 1")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}; expected equal counts")
    for name, array in (("X", X), ("y", y)):
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            raise ValueError(
                f"{name} contains a non-finite value {array[where]} at index {where} "
                f"({len(bad)} in all); expected only finite numbers (no NaN or Inf)"
            )
    if task == "binary" and not np.isin(y, (0.0, 1.0)).all():
        bad_value = y[~np.isin(y, (0.0, 1.0))][0]
        raise ValueError(f"binary task needs labels in {{0, 1}}, got label {bad_value}")
    return X, y


def _validate_options(
    val_fraction: float, test_fraction: float, batch_size: int | None, num_workers: int
) -> None:
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 to leave training data, "
            f"got {val_fraction} + {test_fraction}"
        )
    if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f"batch_size must be an int >= 1 or None (full batch), got {batch_size}")
    if num_workers < 0:
        raise ValueError(f"num_workers must be >= 0, got {num_workers}")


def split_indices(
    m: int, val_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(m)`` with a seeded generator and cut it into train, val and test indices.

    ``n_val = round(m * val_fraction)`` and likewise for test; train keeps the rest (at least one).
    """
    order = np.random.default_rng(seed).permutation(m)
    n_val, n_test = round(m * val_fraction), round(m * test_fraction)
    if m - n_val - n_test < 1:
        raise ValueError(
            f"{m} examples leave no training data with val_fraction={val_fraction}, "
            f"test_fraction={test_fraction}; expected at least one training example"
        )
    return order[n_val + n_test :], order[:n_val], order[n_val : n_val + n_test]


# ----------------------------------------------------------------------------- DataModule


class TabularDataModule(LightningDataModule):
    """A table ``(X, y)`` split into train/val(/test), standardised with train statistics only.

    The split is a seeded permutation, so the same ``seed`` gives the same split on any machine;
    ``train_indices``, ``val_indices`` and ``test_indices`` name the rows of ``X`` in each split.
    Features are standardised, ``x' = (x - mean_) / std_``, with ``mean_`` and ``std_`` fitted on
    the training split alone (a feature with ``std == 0`` gets ``std_ = 1``). For regression the
    target can be standardised the same way; :meth:`inverse_transform_target` maps predictions back.

    Args:
        X: features, shape ``(m, n_x)``; any real dtype, must be finite.
        y: targets, shape ``(m,)`` or ``(m, 1)``; labels in ``{0, 1}`` when ``task="binary"``.
        task: ``"binary"`` (labels 0/1) or ``"regression"`` (real targets).
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

    Shape:
        - ``train_dataset[i]``: ``(x, y)``, ``x`` of shape ``(n_x,)`` and ``y`` of shape ``(1,)``.
        - ``full_train_tensors()``: ``X`` of shape ``(m_train, n_x)``, ``y`` of ``(m_train, 1)``.

    Examples:
        >>> dm = TabularDataModule(np.eye(4), np.array([0, 1, 0, 1]), task="binary",
        ...                        val_fraction=0.25)
        >>> dm.num_features
        4
        >>> dm.setup()
        >>> len(dm.train_dataset), len(dm.val_dataset)
        (3, 1)
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        task: str = "binary",  # "binary" or "regression"
        batch_size: int | None = None,  # None: full batch, one batch per epoch
        val_fraction: float = 0.2,  # a fifth held out for validation
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of split and shuffling
        standardize: bool = True,  # fit on the training split only
        standardize_target: bool = True,  # regression only: keeps the MSE near 1
        num_workers: int = 0,  # small tables: load in the main process
    ) -> None:
        super().__init__()
        _validate_options(val_fraction, test_fraction, batch_size, num_workers)
        self._X, self._y = _validate_arrays(X, y, task)
        # rows of the table in each split (val and test may be empty); fixed by ``seed``
        self.train_indices, self.val_indices, self.test_indices = split_indices(
            len(self._X), val_fraction, test_fraction, seed
        )
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
        self.train_dataset: TensorDataset | None = None
        self.val_dataset: TensorDataset | None = None
        self.test_dataset: TensorDataset | None = None

    @property
    def num_features(self) -> int:
        """Number of input features ``n_x`` (available right after construction)."""
        return int(self._X.shape[1])

    @property
    def num_examples(self) -> int:
        """Number of examples ``m`` in the whole table, before splitting."""
        return int(self._X.shape[0])

    def setup(self, stage: str | None = None) -> None:
        """Split, fit the standardisation on the training split and build the datasets."""
        if self.train_dataset is not None:  # idempotent: Lightning calls setup once per stage
            return
        train, val, test = self.train_indices, self.val_indices, self.test_indices
        X_train, y_train = self._X[train], self._y[train]
        self.mean_, self.std_ = _fit_scale(X_train, self.standardize)
        y_mean, y_std = _fit_scale(y_train[:, None], self.standardize_target)
        self.target_mean_, self.target_std_ = float(y_mean[0]), float(y_std[0])

        def dataset(index: np.ndarray) -> TensorDataset:
            x = (self._X[index] - self.mean_) / self.std_  # (m_split, n_x)
            t = (self._y[index, None] - self.target_mean_) / self.target_std_  # (m_split, 1)
            return TensorDataset(torch.as_tensor(x, dtype=torch.float32),
                                 torch.as_tensor(t, dtype=torch.float32))

        self.train_dataset = dataset(train)
        self.val_dataset = dataset(val) if len(val) else self.train_dataset
        self.test_dataset = dataset(test) if len(test) else None

    def full_train_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole standardised training split: ``X`` (m_train, n_x) and ``y`` (m_train, 1)."""
        self.setup()
        assert self.train_dataset is not None
        X, y = self.train_dataset.tensors
        return X, y

    def transform_features(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Standardise new inputs ``x`` ``(k, n_x)`` with the training statistics (float32)."""
        self.setup()
        x = torch.as_tensor(x, dtype=torch.float64)
        mean, std = torch.from_numpy(self.mean_), torch.from_numpy(self.std_)
        return ((x - mean) / std).to(torch.float32)  # (k, n_x)

    def inverse_transform_target(self, y: torch.Tensor) -> torch.Tensor:
        """Map standardised targets or predictions back to the original units."""
        self.setup()
        return y * self.target_std_ + self.target_mean_

    # ------------------------------------------------------------------------- loaders

    def _loader(self, dataset: TensorDataset, train: bool) -> DataLoader:
        if self.batch_size is None:  # full batch: one batch, whole split, fixed order
            return DataLoader(dataset, batch_size=len(dataset), shuffle=False,
                              num_workers=self.num_workers)
        generator = torch.Generator().manual_seed(self.seed) if train else None
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=train,
                          generator=generator, num_workers=self.num_workers)

    def train_dataloader(self) -> DataLoader:
        self.setup()
        assert self.train_dataset is not None
        return self._loader(self.train_dataset, train=True)

    def val_dataloader(self) -> DataLoader:
        self.setup()
        assert self.val_dataset is not None
        return self._loader(self.val_dataset, train=False)

    def test_dataloader(self) -> DataLoader:
        self.setup()
        if self.test_dataset is None:
            raise ValueError(
                f"test_fraction is {self.test_fraction}, so there is no test split; "
                f"expected test_fraction > 0 (e.g. 0.2) to test"
            )
        return self._loader(self.test_dataset, train=False)

    def predict_dataloader(self) -> DataLoader:
        """The test split, or the validation split when there is no test split."""
        self.setup()
        dataset = self.test_dataset if self.test_dataset is not None else self.val_dataset
        assert dataset is not None
        return self._loader(dataset, train=False)


def _fit_scale(X: np.ndarray, enabled: bool) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and (population) std of ``X``; identity ``(0, 1)`` when not ``enabled``."""
    if not enabled:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    mean, std = X.mean(axis=0), X.std(axis=0)
    # NOTE: a constant feature (std == 0) would divide by zero; scale it by 1 instead.
    return mean, np.where(std > 0, std, 1.0)
