"""The user's own CSV table: a good file, and every error naming what it got and expected."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from torchnn.data import CSVDataModule, read_csv_table

GOOD = "a,b,label\n1,2,0\n3,4.5,1\n-1,1e-3,1\n0,0,0\n2,2,1\n"


def _write(tmp_path: Path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str, error=ValueError, **kwargs) -> str:
    kwargs = {"target": "label", **kwargs}
    with pytest.raises(error) as info:
        read_csv_table(_write(tmp_path, text), **kwargs)
    return str(info.value)


def test_reads_features_and_target(tmp_path):
    X, y, names = read_csv_table(_write(tmp_path, GOOD), target="label")
    assert names == ["a", "b"] and X.shape == (5, 2) and y.tolist() == [0, 1, 1, 0, 1]
    assert X[2].tolist() == [-1.0, 1e-3]


def test_feature_subset_order_blank_lines_and_delimiter(tmp_path):
    text = "label;a;b\r\n1;2;3\r\n\r\n0;4;5\r\n\r\n"
    X, y, names = read_csv_table(_write(tmp_path, text), "label", ["b", "a"], delimiter=";")
    assert names == ["b", "a"] and X.tolist() == [[3, 2], [5, 4]] and y.tolist() == [1, 0]


def test_datamodule_from_csv(tmp_path):
    path = _write(tmp_path, GOOD)
    dm = CSVDataModule(path, target="label", val_fraction=0.2)
    assert dm.num_features == 2 and dm.task == "binary" and dm.feature_names == ["a", "b"]
    assert dm.hparams["path"] == str(path)  # a Path is saved as str
    X, y = dm.full_train_tensors()
    assert X.shape == (4, 2) and y.shape == (4, 1) and X.dtype == torch.float32
    rebuilt = CSVDataModule(**dm.hparams)
    assert torch.equal(rebuilt.full_train_tensors()[0], X)


def test_regression_csv_standardises_target(tmp_path):
    path = _write(tmp_path, "x,y\n1,10\n2,20\n3,30\n4,45\n")
    dm = CSVDataModule(str(path), target="y", task="regression", val_fraction=0.0)
    y = dm.full_train_tensors()[1]
    assert abs(float(y.mean())) < 1e-6 and dm.target_mean_ == pytest.approx(26.25)


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        CSVDataModule(str(path), target="label")


def test_missing_column_names_it_and_lists_the_columns(tmp_path):
    message = _error(tmp_path, GOOD, target="class")
    assert "'class' not found" in message and "['a', 'b', 'label']" in message
    assert "'c' not found" in _error(tmp_path, GOOD, features=["a", "c"])


def test_target_listed_as_feature_is_rejected(tmp_path):
    assert "also listed in features" in _error(tmp_path, GOOD, features=["a", "label"])


def test_duplicate_column_names_are_rejected(tmp_path):
    assert "duplicate column names ['a']" in _error(tmp_path, "a,a,label\n1,2,0\n")


@pytest.mark.parametrize(
    "cell,expected",
    [("abc", "non-numeric value 'abc'"), ("", "empty cell"), ("  ", "empty cell"),
     ("nan", "NaN value 'nan'"), ("NaN", "NaN value 'NaN'"), ("inf", "infinite value 'inf'"),
     ("-Infinity", "infinite value '-Infinity'")],
)
def test_bad_cell_names_column_value_and_line(tmp_path, cell, expected):
    text = f"a,b,label\n1,2,0\n3,4,1\n5,{cell},0\n"
    message = _error(tmp_path, text)
    assert expected in message and "line 4" in message and "column 'b'" in message


def test_line_numbers_count_quoted_multi_line_records(tmp_path):
    text = 'a,b,label\n1,"2",0\n"3\n",4,1\n5,x,0\n'
    assert "line 5" in _error(tmp_path, text)


def test_bad_target_cell_names_the_target_column(tmp_path):
    message = _error(tmp_path, "a,label\n1,0\n2,\n")
    assert "line 3" in message and "column 'label'" in message and "empty cell" in message


@pytest.mark.parametrize("label", ["2", "-1", "0.5"])
def test_binary_target_outside_0_1_names_value_and_line(tmp_path, label):
    message = _error(tmp_path, f"a,label\n1,0\n2,1\n3,{label}\n")
    assert f"value '{label}'" in message and "line 4" in message and "expected 0 or 1" in message


def test_regression_accepts_any_finite_target(tmp_path):
    _, y, _ = read_csv_table(_write(tmp_path, "a,label\n1,2.5\n2,-7\n"), "label", task="regression")
    np.testing.assert_array_equal(y, [2.5, -7.0])


def test_ragged_row_names_line_and_field_counts(tmp_path):
    message = _error(tmp_path, "a,b,label\n1,2,0\n3,1\n")
    assert "line 3" in message and "2 fields, expected 3" in message


def test_header_without_rows_is_empty_data(tmp_path):
    assert "no data rows" in _error(tmp_path, "a,b,label\n\n")


def test_empty_file_is_empty_data(tmp_path):
    assert "is empty" in _error(tmp_path, "")


def test_unknown_task_is_rejected(tmp_path):
    assert "got 'ordinal'" in _error(tmp_path, GOOD, task="ordinal")
