"""What the 省 → 市 → 区 picker (static/customers/regions.js) is given: its two endpoints,
its script and its words — one dict for the form's and filter area's template tag and for
the filter builder (builder.py), which has no translations of its own."""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _


def picker_words() -> dict[str, str]:
    return {"choose": _("请选择"), "unknown": _("（不在行政区划中）"), "found": _("已识别："),
            "ambiguous": _("区县有多处，请手动选择："), "nothing": _("没有识别出省市区，请手动选择"),
            "failed": _("暂时无法识别，请手动选择"),
            "province": _("省份"), "city": _("城市"), "district": _("区县")}


def picker_config() -> dict[str, object]:
    return {"url": reverse("customers:regions"), "parse_url": reverse("customers:region_parse"),
            "script": static("customers/regions.js"), "words": picker_words()}
