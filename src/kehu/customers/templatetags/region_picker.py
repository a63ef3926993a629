"""`{% region_picker_attrs %}`: the attributes that make a form or filter area's province /
city / district inputs a 省 → 市 → 区 picker (static/customers/regions.js), with its words."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kehu.customers.regions.picker import picker_config

register = template.Library()


@register.simple_tag
def region_picker_attrs() -> SafeString:
    config = picker_config()
    return format_html('data-region-picker data-children-url="{}" data-parse-url="{}" data-words="{}"',
                       config["url"], config["parse_url"],
                       json.dumps(config["words"], ensure_ascii=False))
