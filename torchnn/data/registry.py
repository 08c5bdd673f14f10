"""Data sets by name, for the command line and for scripts."""

from typing import Any

from torchnn.data.base import TabularDataModule
from torchnn.data.csv_table import CSVDataModule
from torchnn.data.multiclass_sets import DigitsDataModule, IrisDataModule, SpiralDataModule
from torchnn.data.sklearn_sets import BreastCancerDataModule, DiabetesDataModule
from torchnn.data.synthetic import CirclesDataModule, FlowerDataModule, MoonsDataModule

DATASETS: dict[str, type[TabularDataModule]] = {
    "flower": FlowerDataModule,
    "moons": MoonsDataModule,
    "circles": CirclesDataModule,
    "breast_cancer": BreastCancerDataModule,
    "diabetes": DiabetesDataModule,
    "csv": CSVDataModule,
    "digits": DigitsDataModule,  # multiclass: 10 digits
    "iris": IrisDataModule,  # multiclass: 3 species
    "spiral": SpiralDataModule,  # multiclass: K arms
}


def make_datamodule(name: str, **kwargs: Any) -> TabularDataModule:
    """Build the DataModule registered as ``name`` with constructor arguments ``kwargs``.

    Examples:
        >>> make_datamodule("flower", val_fraction=0.0).num_features
        2
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[name](**kwargs)
