"""Real tables from the copies scikit-learn ships with its wheel (nothing is downloaded)."""

import numpy as np

from torchnn.data.base import TabularDataModule


def load_breast_cancer_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Wisconsin diagnostic breast cancer: ``X`` ``(569, 30)`` float64, ``y`` ``(569,)`` in {0, 1}.

    NOTE: scikit-learn's coding is kept: ``y = 0`` is malignant (212 cases), ``y = 1`` benign (357).
    """
    X, y, _ = _breast_cancer()
    return X, y


def _breast_cancer() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X, y, the 30 feature names) from one read of scikit-learn's table."""
    # NOTE: imported here, not at the top: every torchnn command would pay for it
    from sklearn.datasets import load_breast_cancer

    table = load_breast_cancer()
    return (table.data.astype(np.float64), table.target.astype(np.float64),
            list(table.feature_names))


def load_diabetes_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Diabetes progression: ``X`` ``(442, 10)`` float64, ``y`` ``(442,)`` real (about 25 to 346).

    NOTE: scikit-learn ships the features already centred and scaled (``scaled=True``).
    """
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X.astype(np.float64), y.astype(np.float64)


class BreastCancerDataModule(TabularDataModule):
    """Binary classification on the 569 x 30 breast-cancer table (1 = benign, 0 = malignant).

    Predict: the held-out split (the test split, else the validation split, else every row).

    Args:
        batch_size: examples per batch; ``None`` is full batch (one batch per epoch).
        val_fraction: share held out for validation; ``0.0`` validates on the training split.
        test_fraction: share held out for testing; ``0.0`` means no test split.
        seed: seed of the split and of mini-batch shuffling.
        standardize: standardise features with training-split statistics (raw feature scales differ
            widely: some stay below 0.1, others reach 4254).
        num_workers: DataLoader worker processes.
        stratify: keep each class's share (212 malignant, 357 benign) in every split.
    """

    def __init__(
        self,
        batch_size: int | None = None,  # None: full batch
        val_fraction: float = 0.2,  # a fifth held out for validation
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of split and shuffling
        standardize: bool = True,  # needed: raw features range from below 0.1 to 4254
        num_workers: int = 0,  # the data is small: load in the main process
        stratify: bool = False,  # False keeps the splits of earlier versions
    ) -> None:
        X, y, names = _breast_cancer()  # one read of the table, names included
        super().__init__(X, y, task="binary", batch_size=batch_size, val_fraction=val_fraction,
                         test_fraction=test_fraction, seed=seed, standardize=standardize,
                         num_workers=num_workers, stratify=stratify,
                         feature_names=names,
                         target_name="benign")


class DiabetesDataModule(TabularDataModule):
    """Regression on the 442 x 10 diabetes table (disease progression one year after baseline).

    Predict: the held-out split (the test split, else the validation split, else every row).

    With ``standardize_target=True`` the model sees ``(y - target_mean_) / target_std_``;
    :meth:`inverse_transform_target` maps its predictions back to the original units.

    Args:
        batch_size: examples per batch; ``None`` is full batch (one batch per epoch).
        val_fraction: share held out for validation; ``0.0`` validates on the training split.
        test_fraction: share held out for testing; ``0.0`` means no test split.
        seed: seed of the split and of mini-batch shuffling.
        standardize: standardise features with training-split statistics.
        standardize_target: standardise the target with training-split statistics.
        num_workers: DataLoader worker processes.
    """

    def __init__(
        self,
        batch_size: int | None = None,  # None: full batch
        val_fraction: float = 0.2,  # a fifth held out for validation
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of split and shuffling
        standardize: bool = True,  # fit on the training split only
        standardize_target: bool = True,  # raw targets reach ~346: keeps the MSE near 1
        num_workers: int = 0,  # the data is small: load in the main process
    ) -> None:
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes_arrays()
        super().__init__(X, y, task="regression", batch_size=batch_size,
                         val_fraction=val_fraction, test_fraction=test_fraction, seed=seed,
                         standardize=standardize, standardize_target=standardize_target,
                         num_workers=num_workers, feature_names=list(load_diabetes().feature_names),
                         target_name="progression")
