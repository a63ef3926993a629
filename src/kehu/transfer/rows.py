"""A sheet row as the cleaners take it: the mapped cells gathered into field -> raw value.

Several columns may feed one list field (手机 and 座机 both to phones): their cells are
joined, to be split again by the field's own cleaner. A text a spreadsheet export made
safe with a leading apostrophe ('=SUM…, the export's formula guard) comes back without
it, so an export re-imports as it was. Each field remembers its columns, so a problem is
reported under the header the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kehu.transfer.export.writers import FORMULA_STARTS
from kehu.transfer.mapping import LIST_KEYS

GUARDED = tuple("'" + start for start in FORMULA_STARTS)  # what writers.safe_text adds
JOIN = ", "


@dataclass(frozen=True)
class RawRow:
    """One data row: its number as Excel shows it, field -> raw value, field -> headers."""

    number: int
    values: dict[str, Any]
    cells: list[Any]


class RowShape:
    """Turns the cells of a row into a RawRow by the run's mapping (header -> field key)."""

    def __init__(self, headers: list[str], mapping: dict[str, str]) -> None:
        self.headers = headers
        self.columns: dict[str, list[str]] = {}
        self._plan: list[tuple[int, str]] = []
        for index, header in enumerate(headers):
            key = mapping.get(header, "")
            if key:
                self._plan.append((index, key))
                self.columns.setdefault(key, []).append(header)

    def row(self, number: int, cells: list[Any]) -> RawRow:
        values: dict[str, Any] = {}
        for index, key in self._plan:
            value = _cell(cells[index]) if index < len(cells) else ""
            if value == "":
                continue
            if key in LIST_KEYS and key in values:
                values[key] = f"{values[key]}{JOIN}{value}"
            else:
                values.setdefault(key, value)
        return RawRow(number, values, cells)

    def header_of(self, key: str) -> str:
        """The header(s) a field came from, for a problem's column."""
        return "、".join(self.columns.get(key, [])) or key


def _cell(value: Any) -> Any:
    """The reader gave text, digits or dates (reading._cell); text loses the export's guard."""
    if isinstance(value, str):
        value = value.strip()
        return value[1:] if value.startswith(GUARDED) else value
    return "" if value is None else value
