"""Multi-class data sets (one label out of C): scikit-learn's bundled digits and iris tables
(nothing is downloaded) and the generated K-class spiral.

Each is a :class:`TabularDataModule` with ``task="multiclass"``: a batch's ``y`` holds class
indices of shape ``(m,)`` (int64), ``classes`` names each class and ``num_classes`` is C.
"""

import numpy as np

from torchnn.data.base import TabularDataModule


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """8 x 8 handwritten digits: ``X`` ``(1797, 64)`` float64 (pixel intensities 0-16, row by
    row), ``y`` ``(1797,)`` the digit 0-9 (about 180 of each)."""
    # NOTE: imported here, not at the top: every torchnn command would pay for it
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.astype(np.float64), y.astype(np.float64)


def load_iris_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris: ``X`` ``(150, 4)`` float64 (sepal and petal length and width, cm), ``y``
    ``(150,)`` in {0, 1, 2} = setosa, versicolor, virginica (50 each)."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return X.astype(np.float64), y.astype(np.float64)


def make_spiral(
    n_classes: int = 3, n_per_class: int = 100, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""K interleaved spiral arms in the plane, one class each: the classic non-linear toy set.

    For class ``k`` and ``N = n_per_class`` points (CS231n's spiral, seeded):

    .. math::
        r = \mathrm{linspace}(0, 1, N), \quad
        t = \mathrm{linspace}(4k, 4(k + 1), N) + \mathrm{noise}\ \varepsilon, \quad
        x = (r \sin t, r \cos t)

    with ``ε ~ N(0, 1)``. No line separates the arms: a linear softmax classifier reaches about
    50% training accuracy on 3 classes, one hidden layer of 100 ReLUs about 98%.

    Returns:
        ``X`` of shape ``(K N, 2)`` float64 and ``y`` of shape ``(K N,)``: ``N`` zeros, then
        ``N`` ones, and so on.
    """
    if n_classes < 2 or n_per_class < 1:
        raise ValueError(f"make_spiral needs n_classes >= 2 and n_per_class >= 1, got "
                         f"{n_classes} and {n_per_class}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    N = n_per_class
    X, y = np.zeros((n_classes * N, 2)), np.zeros(n_classes * N)
    for k in range(n_classes):
        ix = slice(N * k, N * (k + 1))
        r = np.linspace(0.0, 1.0, N)  # radius
        t = np.linspace(4.0 * k, 4.0 * (k + 1), N) + rng.standard_normal(N) * noise  # theta
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = k
    return X, y


class DigitsDataModule(TabularDataModule):
    """The 1,797 x 64 handwritten digits (scikit-learn's bundled copy): 10 classes, "0" to "9".

    Predict: the held-out split (the test split, else the validation split, else every row).

    Args:
        batch_size: examples per batch; ``None`` is full batch (one batch per epoch).
        val_fraction: share held out for validation; ``0.0`` validates on the training split.
        test_fraction: share held out for testing; ``0.0`` means no test split.
        seed: seed of the split and of mini-batch shuffling.
        standardize: standardise features with training-split statistics (border pixels that
            are always 0 keep scale 1).
        num_workers: DataLoader worker processes.
        stratify: keep each digit's share in every split.
    """

    def __init__(
        self,
        batch_size: int | None = 64,  # mini-batches: 1,438 training rows
        val_fraction: float = 0.2,  # a fifth held out for validation
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of split and shuffling
        standardize: bool = True,  # pixel intensities 0-16 to order 1
        num_workers: int = 0,  # the data is small: load in the main process
        stratify: bool = True,  # ten classes: keep each one's share in val
    ) -> None:
        X, y = load_digits_arrays()
        super().__init__(X, y, task="multiclass", batch_size=batch_size,
                         val_fraction=val_fraction, test_fraction=test_fraction, seed=seed,
                         standardize=standardize, num_workers=num_workers, stratify=stratify,
                         feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
                         target_name="digit", classes=[str(d) for d in range(10)])


class IrisDataModule(TabularDataModule):
    """Fisher's 150 x 4 iris table: 3 classes, setosa, versicolor and virginica.

    Predict: the held-out split (the test split, else the validation split, else every row).

    Args:
        batch_size: examples per batch; ``None`` is full batch (one batch per epoch).
        val_fraction: share held out for validation; ``0.0`` validates on the training split.
        test_fraction: share held out for testing; ``0.0`` means no test split.
        seed: seed of the split and of mini-batch shuffling.
        standardize: standardise features with training-split statistics.
        num_workers: DataLoader worker processes.
        stratify: keep each species' share in every split.
    """

    def __init__(
        self,
        batch_size: int | None = None,  # None: full batch (120 training rows)
        val_fraction: float = 0.2,  # a fifth held out for validation
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of split and shuffling
        standardize: bool = True,  # fit on the training split only
        num_workers: int = 0,  # the data is tiny: load in the main process
        stratify: bool = True,  # 30 validation rows: 10 of each species
    ) -> None:
        from sklearn.datasets import load_iris

        X, y = load_iris_arrays()
        iris = load_iris()
        super().__init__(X, y, task="multiclass", batch_size=batch_size,
                         val_fraction=val_fraction, test_fraction=test_fraction, seed=seed,
                         standardize=standardize, num_workers=num_workers, stratify=stratify,
                         feature_names=[n.replace(" (cm)", "").replace(" ", "_")
                                        for n in iris.feature_names],
                         target_name="species", classes=list(iris.target_names))


class SpiralDataModule(TabularDataModule):
    """The K-class spiral (:func:`make_spiral`) as a multi-class DataModule; classes "0" .. "K-1".

    Predict: the held-out split (the test split, else the validation split, else every row).

    NOTE: the classic exercise trains and reports on all points; ``val_fraction=0.0`` does that
    (validation then runs on the training split), and is the default.

    Args:
        n_classes: K, the number of arms and classes.
        n_per_class: points per class (100, so ``m = 300`` for 3 classes).
        noise: standard deviation of the Gaussian noise on the angle.
        batch_size: examples per batch; ``None`` is full batch (one batch per epoch).
        val_fraction: share held out for validation; ``0.0`` validates on the training split.
        test_fraction: share held out for testing; ``0.0`` means no test split.
        seed: seed of the data generator, the split and mini-batch shuffling.
        standardize: standardise features with training-split statistics.
        num_workers: DataLoader worker processes.
        stratify: keep each class's share in every split.
    """

    def __init__(
        self,
        n_classes: int = 3,  # K = 3 arms, as in the classic exercise
        n_per_class: int = 100,  # 300 points in all
        noise: float = 0.2,  # the classic noise on theta
        batch_size: int | None = None,  # None: full batch
        val_fraction: float = 0.0,  # trains and reports on all points, as the exercise does
        test_fraction: float = 0.0,  # no test split by default
        seed: int = 0,  # seed of generation, split and shuffling
        standardize: bool = True,  # an affine map; the arms stay as separable as before
        num_workers: int = 0,  # the data is tiny: load in the main process
        stratify: bool = False,  # False: the plain seeded split
    ) -> None:
        X, y = make_spiral(n_classes=n_classes, n_per_class=n_per_class, noise=noise, seed=seed)
        super().__init__(X, y, task="multiclass", batch_size=batch_size,
                         val_fraction=val_fraction, test_fraction=test_fraction, seed=seed,
                         standardize=standardize, num_workers=num_workers, stratify=stratify,
                         classes=[str(k) for k in range(n_classes)])
