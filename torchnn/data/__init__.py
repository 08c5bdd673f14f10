"""Embedded data sets as LightningDataModules. Stands alone: imports nothing else from torchnn.

Each set is a :class:`TabularDataModule` with a seeded (optionally stratified) train/val(/test)
split, features standardised with training statistics, and full-batch (``batch_size=None``) or
mini-batch loading. Its fitted state travels in checkpoints, so a trained model predicts new rows
(:mod:`torchnn.data.predict`).
"""

from torchnn.data.base import TabularDataModule
from torchnn.data.checks import TASKS, split_indices
from torchnn.data.csv_table import CSVDataModule, read_csv_table
from torchnn.data.multiclass_sets import (
    DigitsDataModule,
    IrisDataModule,
    SpiralDataModule,
    load_digits_arrays,
    load_iris_arrays,
    make_spiral,
)
from torchnn.data.predict import PredictRows
from torchnn.data.reader import read_csv_header, read_csv_values
from torchnn.data.registry import DATASETS, make_datamodule
from torchnn.data.sklearn_sets import (
    BreastCancerDataModule,
    DiabetesDataModule,
    load_breast_cancer_arrays,
    load_diabetes_arrays,
)
from torchnn.data.synthetic import (
    CirclesDataModule,
    FlowerDataModule,
    MoonsDataModule,
    make_flower,
)

__all__ = [
    "DATASETS",
    "TASKS",
    "BreastCancerDataModule",
    "CSVDataModule",
    "CirclesDataModule",
    "DiabetesDataModule",
    "DigitsDataModule",
    "IrisDataModule",
    "FlowerDataModule",
    "MoonsDataModule",
    "PredictRows",
    "SpiralDataModule",
    "TabularDataModule",
    "load_breast_cancer_arrays",
    "load_diabetes_arrays",
    "load_digits_arrays",
    "load_iris_arrays",
    "make_datamodule",
    "make_flower",
    "make_spiral",
    "read_csv_header",
    "read_csv_table",
    "read_csv_values",
    "split_indices",
]
