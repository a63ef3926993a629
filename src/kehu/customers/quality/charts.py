"""The trend as a small inline SVG: no chart library, no script, nothing fetched.

Average completeness (0–100, left scale) as a line, stale and invalid counts (right scale,
up to the largest) as two thinner lines, one point per snapshot day.
"""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, PAD_X, PAD_Y = 960, 220, 44, 20


def trend_chart(trend: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Coordinates for the template's <svg>, or None with fewer than one day."""
    if not trend:
        return None
    inner_w, inner_h = WIDTH - 2 * PAD_X, HEIGHT - 2 * PAD_Y
    step = inner_w / max(len(trend) - 1, 1)
    top = max([1, *(max(r["stale"] or 0, r["invalid"] or 0) for r in trend)])

    def y(value: float, scale: float) -> float:
        return round(PAD_Y + inner_h - inner_h * value / scale, 1)

    def line(values: list[float | None], scale: float) -> str:
        return " ".join(f"{round(PAD_X + i * step, 1)},{y(v, scale)}"
                        for i, v in enumerate(values) if v is not None)

    return {
        "width": WIDTH, "height": HEIGHT, "left": PAD_X, "right": WIDTH - PAD_X,
        "top": PAD_Y, "bottom": HEIGHT - PAD_Y, "middle": y(50, 100),
        "average": line([r["average"] for r in trend], 100),
        "stale": line([r["stale"] for r in trend], top),
        "invalid": line([r["invalid"] for r in trend], top),
        "dots": [{"x": round(PAD_X + i * step, 1), "y": y(r["average"], 100), "row": r}
                 for i, r in enumerate(trend) if r["average"] is not None],
        "max_count": top, "first": trend[0]["day"], "last": trend[-1]["day"],
    }
