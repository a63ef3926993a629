"""Columns other apps add to the customer list, the way they add card panels.

Customers knows its own columns; a column about something another app keeps (a customer's
classes, its RFM scores) is registered from that app's AppConfig.ready, with a loader that
reads the cells of one page's customers in one query:

    register_list_column(ListColumn("classes", _("分类"), load_classes, order=10))

The list asks `list_columns()` once a page and calls each loader with the page's ids only,
so a column costs one query per page whatever the page's length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cell:
    """One piece of a cell: text, shown as a coloured chip when it has a colour."""

    text: str
    color: str = ""
    title: str = ""


@dataclass(frozen=True)
class ListColumn:
    key: str
    label: Any  # a lazy translation string
    load: Callable[[list[int]], dict[int, list[Cell]]]  # the page's ids → each row's cell
    order: int = 100
    hidden: bool = False  # hidden until a person shows it from the column menu


_COLUMNS: dict[str, ListColumn] = {}


def register_list_column(column: ListColumn) -> None:
    """Add (or replace, by key) a column of the customer list."""
    _COLUMNS[column.key] = column


def list_columns() -> list[ListColumn]:
    return sorted(_COLUMNS.values(), key=lambda c: (c.order, c.key))
