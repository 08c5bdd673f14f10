r"""Numeric tables from CSV files: numpy's C parser for speed, the csv module for exact errors.

Every error names the file, the 1-based line (the header is line 1), the column and the value.

``numpy.loadtxt`` parses the file (no Python object per cell) and its values are kept when they
pass the checks the csv path makes: one field per header column on every row, every used cell a
finite number, a binary target 0 or 1. The common case takes one call over the whole file, at
loadtxt's own speed and memory. Otherwise (a text column, a bad cell, a quote...) the file is
read in blocks of about 2 MiB the same way, and a block that fails is read again cell by cell
with the csv module, which raises the precise error, or accepts what numpy is stricter about (a
line of spaces, ``1_000``). From a block holding a quote character (a quoted field may hold a
line end) or a lone ``\r`` line end on, the csv module reads the rest. Memory: the float array
plus one block; rows are never held as Python objects.
"""

import csv
import io
import math
import os
import warnings
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

_BLOCK = 1 << 21  # bytes per block: small enough to stay in cache and to re-read on an error


def read_csv_header(path: str | Path, delimiter: str = ",") -> list[str]:
    """The column names on the first line of ``path``, stripped of spaces; they must be unique."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"CSV file not found: '{path}'; expected an existing file")
    # NOTE: utf-8-sig drops the byte-order mark that spreadsheet programs put before the header.
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), None)
    if header is None:
        raise ValueError(f"CSV file '{path}' is empty; expected a header line, then data rows")
    header = [name.strip() for name in header]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ValueError(f"'{path}' line 1: duplicate column names {duplicates}; expected unique")
    return header


def match_columns(
    header: list[str], features: Sequence[str], target: str, path: str
) -> tuple[list[int], bool]:
    """Positions of ``features`` (then ``target``, when present) in a file of new rows.

    The file must hold exactly the training features, in any order, and may hold the target.
    """
    missing = [name for name in features if name not in header]
    extra = [name for name in header if name not in features and name != target]
    if missing or extra:
        got = "; ".join(f"{what} {names}" for what, names in (("missing", missing),
                                                               ("extra", extra)) if names)
        raise ValueError(f"'{path}' columns do not match the training features: {got}; "
                         f"expected {list(features)} and optionally the target '{target}'")
    names = [*features, target] if target in header else list(features)
    return [header.index(name) for name in names], target in header


def _parse_cell(cell: str, column: str, line: int, path: str) -> float:
    """One cell as a finite float, or a ValueError naming file, line, column and value."""
    where = f"'{path}' line {line}, column '{column}'"
    text = cell.strip()
    if not text:
        raise ValueError(f"{where}: empty cell (missing value); expected a finite number")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: non-numeric value {cell!r}; expected a number") from None
    if math.isnan(value):
        raise ValueError(f"{where}: NaN value {cell!r}; expected a finite number")
    if math.isinf(value):
        raise ValueError(f"{where}: infinite value {cell!r}; expected a finite number")
    return value


def _read_exact(lines: Iterable[str], path: str, header: list[str], columns: list[int],
                delimiter: str, binary: int | None, line0: int) -> np.ndarray:
    """The csv module's reading, cell by cell: the slow path, and the source of every message.

    ``line0`` is the number of file lines before ``lines`` starts.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    values = array("d")  # 8 bytes a value, like the float array
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line (for instance at the end of the file)
        line = line0 + reader.line_num  # the last line of this record (quotes may span lines)
        if len(row) != len(header):
            raise ValueError(f"'{path}' line {line}: {len(row)} fields, expected {len(header)} "
                             f"(one per header column)")
        cells = [_parse_cell(row[i], header[i], line, path) for i in columns]
        if binary is not None and cells[binary] not in (0.0, 1.0):
            raise ValueError(
                f"'{path}' line {line}, target column '{header[columns[binary]]}': value "
                f"{row[columns[binary]]!r} is not a binary label; expected 0 or 1"
            )
        values.extend(cells)
    return np.frombuffer(values, dtype=np.float64).reshape(-1, len(columns))


def _loadtxt(source, delimiter: str, usecols: list[int] | None, **options) -> np.ndarray | None:
    """numpy.loadtxt's float64 ``(rows, columns)``, or ``None`` where numpy refuses the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            return np.loadtxt(source, delimiter=delimiter, comments=None, quotechar=None,
                              ndmin=2, usecols=usecols, **options)
    except ValueError:  # a text column, a bad cell or a ragged row: the csv path names it
        return None


def _checked(values: np.ndarray, binary: int | None) -> np.ndarray | None:
    """``values``, or ``None`` if a check the csv path makes fails (it then names the error)."""
    if len(values) == 0:
        return None
    # NOTE: min and max propagate NaN and reach +-inf, without a temporary the size of values
    if not (np.isfinite(values.min()) and np.isfinite(values.max())):
        return None
    if binary is not None and not ((values[:, binary] == 0) | (values[:, binary] == 1)).all():
        return None
    return values


def _every_field(values: np.ndarray | None, n_fields: int, columns: list[int],
                 binary: int | None) -> np.ndarray | None:
    """The ``columns`` of values numpy read for all ``n_fields`` fields, checked."""
    if values is None or values.shape[1] != n_fields:  # numpy checks that all rows agree
        return None
    return _checked(values if columns == list(range(n_fields)) else values[:, columns], binary)


def _read_whole(path: str, n_fields: int, columns: list[int], delimiter: str,
                binary: int | None) -> np.ndarray | None:
    """The common case at loadtxt's own speed and memory: one call over the whole file.

    A path (not a file object) lets numpy read large chunks in C. ``None`` when anything is off
    (a text column, a bad cell, a quote...): then blocks are read.
    """
    values = _loadtxt(path, delimiter, None, skiprows=1, encoding="utf-8")
    return _every_field(values, n_fields, columns, binary)


def _read_block(block: bytes, n_fields: int, columns: list[int], delimiter: str,
                binary: int | None) -> np.ndarray | None:
    """numpy's values of a block of lines, or ``None`` when the csv path must read it."""
    if len(columns) == n_fields:  # all columns, perhaps reordered
        return _every_field(_loadtxt(io.BytesIO(block), delimiter, None), n_fields, columns,
                            binary)
    values = _loadtxt(io.BytesIO(block), delimiter, columns)  # other columns may hold text
    if values is None:
        return None
    # NOTE: with usecols numpy ignores fields past the last used one: count delimiters per line
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    ends = ends if data[-1] == ord("\n") else np.append(ends, len(data))
    seps = np.diff(np.searchsorted(np.flatnonzero(data == ord(delimiter)), ends), prepend=0)
    if not np.all((seps == n_fields - 1) | (seps == 0)):  # 0: blank (numpy refused others)
        return None
    return _checked(values, binary)


def _lines_before(path: str, offset: int) -> int:
    """Line ends in the first ``offset`` bytes of ``path`` (counted only on the slow path)."""
    count = 0
    with open(path, "rb") as handle:
        while offset > 0 and (chunk := handle.read(min(offset, _BLOCK))):
            count, offset = count + chunk.count(b"\n"), offset - len(chunk)
    return count


def read_csv_values(path: str | Path, header: list[str], columns: Sequence[int],
                    delimiter: str = ",", binary: int | None = None) -> np.ndarray:
    """The cells of ``columns`` (positions in ``header``) of every data row: float64 ``(m, k)``.

    ``binary`` is the position in ``columns`` of a column that must hold 0 or 1. Blank lines are
    skipped. Raises ValueError naming file, line, column and value for a row with the wrong number
    of fields, an empty, non-numeric, NaN or infinite cell, a binary label outside {0, 1}, or no
    data rows at all.
    """
    path, columns = str(path), list(columns)
    out, m, size = np.empty((0, len(columns))), 0, os.path.getsize(path)
    with open(path, "rb") as handle:
        first = handle.readline()
        # numpy's delimiter semantics match the csv module's for one ASCII character that is
        # neither a space nor a quote; a quoted header (it may span lines) goes to csv whole
        exact = (len(delimiter) != 1 or not delimiter.isascii() or delimiter in ' "\r\n'
                 or b'"' in first or first.count(b"\r") != first.count(b"\r\n"))
        if not exact and (values := _read_whole(path, len(header), columns, delimiter, binary)
                          ) is not None:
            return values
        while not exact and (block := handle.read(_BLOCK)):
            start = handle.tell() - len(block)
            if not block.endswith(b"\n"):
                block += handle.readline()  # end the block at a line end
            if b'"' in block or b"\0" in block or (
                    b"\r" in block and block.count(b"\r") != block.count(b"\r\n")):
                handle.seek(start)  # a quoted field may span blocks: csv reads the rest
                exact = True
                break
            if not block.isascii():
                block.decode("utf-8")  # invalid UTF-8 fails here, as in the csv module
            values = _read_block(block, len(header), columns, delimiter, binary)
            if values is None:
                lines = io.StringIO(block.decode("utf-8"), newline="")
                values = _read_exact(lines, path, header, columns, delimiter, binary,
                                     _lines_before(path, start))
            if m + len(values) > len(out):  # room for the rows the rest of the file suggests
                rows = m + len(values) + int((size - handle.tell()) / len(block) * len(values)
                                             * 1.02) + 1
                if m == 0:
                    out = np.empty((rows, len(columns)))
                else:  # realloc in place: the rows read so far are not copied
                    out.resize((rows, len(columns)), refcheck=False)
            out[m : m + len(values)] = values
            m += len(values)
        if exact:
            if handle.tell() == len(first):  # numpy read nothing: csv reads the header as well
                handle.seek(0)
            line0 = _lines_before(path, handle.tell())
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            if line0 == 0:
                records = csv.reader(text, delimiter=delimiter)
                next(records, None)
                line0 = records.line_num  # the header's lines
            values = _read_exact(text, path, header, columns, delimiter, binary, line0)
            out.resize((m + len(values), len(columns)), refcheck=False)
            out[m:] = values
            m += len(values)
    if m == 0:
        raise ValueError(f"CSV file '{path}' has no data rows; expected at least one after line 1")
    # NOTE: realloc gives back the rows the estimate added. No view of ``out`` is alive here or
    # above, so resize's reference check (which fails under debuggers and tracers) is not needed
    out.resize((m, len(columns)), refcheck=False)
    return out
