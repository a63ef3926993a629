"""The snapshot file: read it, check it, load it into the Region table.

Format (`kehu-regions/1`, see scripts/regions_snapshot.py for how the bundled one was made):
{"format", "as_of", "source", "licence", "regions": [[code, name, parent code, level], ...]}
— six-digit codes, provinces (level 1, no parent), cities (2, a province's child) and
county-level districts (3, a city's child). Nothing is fetched at run time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FORMAT = "kehu-regions/1"
BUNDLED = Path(__file__).resolve().parent.parent / "data" / "regions-202306.json"
_CODE = re.compile(r"\d{6}")
MIN_PROVINCES = 30  # a snapshot with fewer is a cut-down file, not a newer list


@dataclass(frozen=True)
class Snapshot:
    as_of: str
    source: str
    licence: str
    rows: list[tuple[str, str, str, int]]

    def counts(self) -> dict[int, int]:
        out = {1: 0, 2: 0, 3: 0}
        for row in self.rows:
            out[row[3]] += 1
        return out


def read(path: Path | str = BUNDLED) -> Snapshot:
    """Read and check a snapshot file; a bad one raises ValidationError naming every problem
    (at most 20)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError({"file": [_("无法读取区划文件：%(error)s") % {"error": exc}]}) from exc
    return validate(data)


def validate(data: Any) -> Snapshot:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError({"file": [_("不是 %(format)s 格式的区划文件") % {"format": FORMAT}]})
    errors = [_("缺少 %(key)s") % {"key": key} for key in ("as_of", "source")
              if not isinstance(data.get(key), str) or not data[key].strip()]
    raw = data.get("regions")
    rows = _rows(raw if isinstance(raw, list) else [], errors)
    if not isinstance(raw, list) or not raw:
        errors.append(_("regions 应为非空列表"))
    if sum(1 for row in rows if row[3] == 1) < MIN_PROVINCES:
        errors.append(_("省级区划少于 %(n)s 个") % {"n": MIN_PROVINCES})
    if errors:
        raise ValidationError({"file": errors[:20]})
    return Snapshot(data["as_of"].strip(), data["source"].strip(),
                    str(data.get("licence") or "").strip(), rows)


def _rows(raw: list, errors: list[str]) -> list[tuple[str, str, str, int]]:
    rows: list[tuple[str, str, str, int]] = []
    for i, row in enumerate(raw):
        if (not isinstance(row, list) or len(row) != 4 or not all(isinstance(v, str) for v in row[:3])
                or not isinstance(row[3], int) or not _CODE.fullmatch(row[0])
                or not row[1].strip() or len(row[1]) > 64 or row[3] not in (1, 2, 3)):
            errors.append(_("第 %(i)s 行格式不对：%(row)s") % {"i": i + 1, "row": str(row)[:80]})
        else:
            rows.append((row[0], row[1].strip(), row[2], row[3]))
    levels = {code: level for code, _n, _p, level in rows}
    if len(levels) != len(rows):
        errors.append(_("区划代码有重复"))
    for code, name, parent, level in rows:
        expected = levels.get(parent, 0) + 1 if parent else 1
        if (parent and parent not in levels) or level != expected:
            errors.append(_("%(code)s %(name)s 的上级 %(parent)s 不存在或级别不对")
                          % {"code": code, "name": name, "parent": parent or "—"})
    return rows
