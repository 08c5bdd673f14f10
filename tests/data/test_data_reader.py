"""The block reader: numpy.loadtxt's values, the csv module's errors, memory of the float array."""

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import torchnn.data.reader as reader
from torchnn.data import read_csv_table


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Blocks of 512 bytes, so a file of a few hundred rows spans many of them."""
    monkeypatch.setattr(reader, "_BLOCK", 512)


def _numbers(tmp_path: Path, m: int = 400, newline: str = "\n") -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(1)
    table = np.c_[rng.normal(size=(m, 3)) * 1e3, rng.integers(0, 2, m)]
    lines = ["a,b,label,c"] + [f"{float(r[0])!r},{r[1]:.6g},{int(r[3])},{r[2]:.17g}" for r in table]
    lines[100:100] = ["", "   "]  # blank lines are skipped (numpy refuses the spaces)
    path = tmp_path / "numbers.csv"
    path.write_bytes((newline.join(lines) + newline).encode())
    return path, table


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_values_equal_numpy_loadtxt_across_blocks(tmp_path, newline):
    path, _ = _numbers(tmp_path, newline=newline)
    clean = tmp_path / "clean.csv"  # numpy.loadtxt refuses a line of spaces
    clean.write_text("\n".join(line for line in path.read_text().splitlines() if line.strip()))
    expected = np.loadtxt(clean, delimiter=",", skiprows=1)
    X, y, names = read_csv_table(path, "label")
    assert names == ["a", "b", "c"] and X.shape == (400, 3)
    np.testing.assert_array_equal(X, expected[:, [0, 1, 3]])
    np.testing.assert_array_equal(y, expected[:, 2])
    X, _, _ = read_csv_table(path, "label", features=["c", "a"])  # a subset, reordered
    np.testing.assert_array_equal(X, expected[:, [3, 0]])


def _set_cell(lines: list[str], index: int, column: int, text: str) -> None:
    cells = lines[index].split(",")
    lines[index] = ",".join(cells[:column] + [text] + cells[column + 1 :])


def test_error_in_a_late_block_names_its_line(tmp_path):
    path, _ = _numbers(tmp_path)
    lines = path.read_text().splitlines()
    _set_cell(lines, 350, 1, "1.5x")  # line 351 of the file
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 351, column 'b': non-numeric value '1.5x'"):
        read_csv_table(path, "label")


def test_extra_field_is_caught_when_only_some_columns_are_read(tmp_path):
    path, _ = _numbers(tmp_path)
    lines = path.read_text().splitlines()
    lines[300] += ",9"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 301: 5 fields, expected 4"):
        read_csv_table(path, "label", features=["a"])


def test_quoted_fields_after_the_first_block_are_read_by_the_csv_module(tmp_path):
    path, table = _numbers(tmp_path)
    lines = path.read_text().splitlines()
    first = lines[250].split(",")
    lines[250] = f'"{first[0]}\n",' + ",".join(first[1:])  # a quoted field holding a line end
    good = lines[390]
    _set_cell(lines, 390, 1, "nan")  # line 392: one more for the line end in quotes
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 392, column 'b': NaN value 'nan'"):
        read_csv_table(path, "label")
    lines[390] = good
    path.write_text("\n".join(lines) + "\n")
    X, _, _ = read_csv_table(path, "label")
    assert X.shape == (400, 3) and X[248, 0] == table[248, 0]


def test_csv_module_rules_hold_where_numpy_is_stricter(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("name,a,label\nx,1_000,1\n  \ny, 2 ,0\n")
    X, y, _ = read_csv_table(path, "label", features=["a"])  # text in an unread column
    assert X[:, 0].tolist() == [1000.0, 2.0] and y.tolist() == [1.0, 0.0]


def test_memory_stays_near_the_float_array(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK", 1 << 16)
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("a,b,c,d,label\n")
        np.savetxt(handle, np.c_[rng.normal(size=(50_000, 4)), rng.integers(0, 2, 50_000)],
                   delimiter=",", fmt="%.17g")
    tracemalloc.start()
    try:
        X, y, _ = read_csv_table(path, "label")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    floats = 50_000 * 5 * 8  # 2 MB; a row as Python floats in a list alone takes 5 * 32 bytes
    assert X.shape == (50_000, 4) and peak < 1.3 * floats + 8 * (1 << 16)
