"""Text for a terminal: boxes padded by display width (a Chinese character is two columns)."""

from __future__ import annotations

import unicodedata


def boxed(lines: list[str]) -> str:
    """Lines framed in a box, padded by display width so the right edge lines up."""
    widths = [display_width(line) for line in lines]
    inner = max(widths) + 2
    rows = [f"│ {line}{' ' * (inner - 2 - w)} │" for line, w in zip(lines, widths, strict=True)]
    return "\n".join([f"┌{'─' * inner}┐", *rows, f"└{'─' * inner}┘"])


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
