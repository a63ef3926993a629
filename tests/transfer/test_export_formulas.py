"""No exported cell is a formula a spreadsheet would run, whatever text people typed.

A property test over free-form text through both writers, read back by independent
readers: a text that a spreadsheet would run (= + - @, or a tab or carriage return
first) comes back with a leading apostrophe and otherwise unchanged; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from kehu.transfer.export.columns import Column
from kehu.transfer.export.writers import FORMULA_STARTS, open_writer

COLUMNS = [Column("notes", "备注", lambda r: r), Column("phones", "电话", lambda r: r, True),
           Column("amount", "金额", lambda r: r)]
# Text that often starts like a formula, plus anything else but NUL (no field may hold it).
chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.one_of(
    st.builds(lambda head, rest: head + rest, st.sampled_from(["=", "+", "-", "@", "\t", "\r",
                                                               "=cmd|' /C calc'!A0", "-2+3"]),
              st.text(chars, max_size=20)),
    st.text(chars, min_size=1, max_size=30),
)
amounts = st.one_of(st.integers(-10**9, 10**9),
                    st.decimals(-10**9, 10**9, places=2, allow_nan=False, allow_infinity=False))


def expected(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write(fmt: str, rows: list[tuple]) -> bytes:
    stream = io.BytesIO()
    writer = open_writer(fmt, stream, COLUMNS)
    for row in rows:
        writer.write(list(row))
    writer.close()
    return stream.getvalue()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, texts, amounts), min_size=1, max_size=5))
def test_xlsx_cells_are_never_formulas(rows):
    data = write("xlsx", rows)
    book = openpyxl.load_workbook(io.BytesIO(data))  # not read-only: it sees formula cells
    cells = list(book.active.iter_rows(min_row=2))
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    for (note, phone, amount), row, read in zip(rows, cells, calamine[1:], strict=True):
        assert [c.data_type for c in row] == ["s", "s", "n"]  # never "f", a formula
        # calamine for the text: openpyxl leaves control characters as XML's _x000D_ escapes
        assert read[:2] == [expected(note), expected(phone)]
        assert row[2].data_type == "n" and row[2].value == float(amount)  # negative ones too


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, texts, amounts), min_size=1, max_size=5))
def test_csv_cells_are_never_formulas(rows):
    text = write("csv", rows).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text, newline="")))[1:]
    for (note, phone, amount), cells in zip(rows, read, strict=True):
        assert cells[:2] == [expected(note), expected(phone)]
        assert not any(c.startswith(FORMULA_STARTS) for c in cells[:2])
        assert Decimal(cells[2]) == amount
