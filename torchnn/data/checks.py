"""Input checks and seeded splits for the tables of :mod:`torchnn.data`."""

import numpy as np

TASKS = ("binary", "regression", "multiclass")


def validate_arrays(
    X: np.ndarray, y: np.ndarray | None, task: str  # y None: refused below, shape ()
) -> tuple[np.ndarray, np.ndarray]:
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
    check_finite("X", X)
    check_finite("y", y)
    if task == "binary" and not np.isin(y, (0.0, 1.0)).all():
        bad_value = y[~np.isin(y, (0.0, 1.0))][0]
        raise ValueError(f"binary task needs labels in {{0, 1}}, got label {bad_value}")
    if task == "multiclass" and not (np.all(y >= 0) and np.all(y == np.round(y))):
        bad_value = y[(y < 0) | (y != np.round(y))][0]
        raise ValueError(f"multiclass task needs integer class labels 0, 1, ..., C-1, got label "
                         f"{bad_value}")
    return X, y


def validate_options(
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


def column_names(n_x: int, feature_names: list[str] | None) -> list[str]:
    """The names of the ``n_x`` feature columns: ``feature_names``, or ``x1, x2, ...``."""
    names = [f"x{j + 1}" for j in range(n_x)] if feature_names is None else [
        str(name) for name in feature_names]
    if len(set(names)) != len(names) or len(names) != n_x:
        raise ValueError(f"feature_names must be {n_x} unique names, one per column of X; "
                         f"got {names}")
    return names


def split_indices(
    m: int, val_fraction: float, test_fraction: float, seed: int,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(m)`` with a seeded generator and cut it into train, val and test indices.

    ``n_val = round(m * val_fraction)`` and likewise for test; train keeps the rest (at least one).
    With ``labels`` (stratified) each split keeps the classes' shares: for two classes, every
    split's count of each class is within one example of ``len(split) * m_class / m``.
    """
    order = np.random.default_rng(seed).permutation(m)
    if labels is not None:
        # Order by each example's rank within its class as a fraction of the class size, so
        # the classes interleave evenly: val, test and train (cuts of this order) keep shares.
        y = np.asarray(labels)[order]
        quantile = np.empty(m)
        for label in np.unique(y):
            members = y == label
            quantile[members] = (np.arange(members.sum()) + 0.5) / members.sum()
        order = order[np.argsort(quantile, kind="stable")]
    n_val, n_test = round(m * val_fraction), round(m * test_fraction)
    if m - n_val - n_test < 1:
        raise ValueError(
            f"{m} examples leave no training data with val_fraction={val_fraction}, "
            f"test_fraction={test_fraction}; expected at least one training example"
        )
    return order[n_val + n_test :], order[:n_val], order[n_val : n_val + n_test]


def check_finite(name: str, array: np.ndarray) -> None:
    """Raise a ValueError naming the first NaN or infinite entry of ``array``."""
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        where = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name} contains a non-finite value {array[where]} at index {where} "
            f"({len(bad)} in all); expected only finite numbers (no NaN or Inf)"
        )


def fit_scale(X: np.ndarray, enabled: bool) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and (population) std of ``X``; identity ``(0, 1)`` when not ``enabled``."""
    if not enabled:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    mean, std = X.mean(axis=0), X.std(axis=0)
    # NOTE: a constant feature (std == 0) would divide by zero; scale it by 1 instead.
    return mean, np.where(std > 0, std, 1.0)


def class_names(task: str, y: np.ndarray | None, classes: list[str] | None) -> list[str] | None:
    """A multiclass task's class names: ``classes``, or "0" .. "C-1" with C = max label + 1."""
    if task != "multiclass":
        return None
    if classes is None:
        return None if y is None else [str(c) for c in range(int(y.max()) + 1)]
    names = [str(c) for c in classes]
    if len(set(names)) != len(names) or len(names) < 2:
        raise ValueError(f"classes must be at least two unique names, got {names}")
    if y is not None and y.max() >= len(names):
        raise ValueError(f"label {int(y.max())} has no name in classes {names}; expected labels "
                         f"0 .. {len(names) - 1}")
    return names
