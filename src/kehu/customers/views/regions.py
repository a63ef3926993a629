"""The region picker's reads (JSON): a division's children, the path to a division, and the
region a pasted address starts with. Reference data, the same for everyone signed in;
cacheable, with an ETag of the loaded snapshot."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import quote_etag
from django.views.decorators.http import require_GET

from kehu.core.views import web_view
from kehu.customers.regions.index import PROVINCE, Division, RegionIndex, current
from kehu.customers.regions.matching import parse_address

MAX_ADDRESS = 300
CACHE = "private, max-age=3600"


def _json(request: HttpRequest, index: RegionIndex, data: dict, status: int = 200) -> HttpResponse:
    key = f"{index.as_of}|{index.stamp}|{request.get_full_path()}"
    etag = quote_etag(hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:20])
    if request.headers.get("If-None-Match") == etag and status == 200:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse({"as_of": index.as_of, **data}, status=status,
                                json_dumps_params={"ensure_ascii": False})
    response["ETag"] = etag
    response["Cache-Control"] = CACHE
    return response


def _item(division: Division, implied: Division | None = None) -> dict:
    item = {"code": division.code, "name": division.name, "level": division.level}
    if division is implied:
        item["implied"] = True  # a municipality's one city: the picker chooses it by itself
    return item


@require_GET
@web_view
def region_children(request: HttpRequest) -> HttpResponse:
    """?parent=CODE: its children ("" or no parent: the provinces); ?code=CODE: the path
    from its province down to it (to show a stored choice)."""
    index = current()
    code = request.GET.get("code")
    if code is not None:
        division = index.by_code.get(code)
        if division is None:
            return _json(request, index, {"path": []}, status=404)
        return _json(request, index, {"path": [_item(d) for d in index.path(division)]})
    parent = request.GET.get("parent", "")
    if parent and parent not in index.by_code:
        return _json(request, index, {"regions": []}, status=404)
    above = index.by_code.get(parent)
    implied = index.only_city(above) if above and above.level == PROVINCE else None
    return _json(request, index, {"parent": parent, "regions": [
        _item(d, implied) for d in index.children_of(parent)]})


@require_GET
@web_view
def region_parse(request: HttpRequest) -> HttpResponse:
    """?q=ADDRESS: the province / city / district it starts with, the rest (the street), and
    the region said in full (广东省深圳市南山区; 上海市 once), which the picker shows."""
    index = current()
    found = parse_address(request.GET.get("q", "")[:MAX_ADDRESS], index=index)
    return _json(request, index, found.as_dict(index))
