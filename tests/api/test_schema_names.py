"""The OpenAPI document names each schema by its class name alone: two schema classes of
one name (a SummaryOut in two apps) make one silently replace the other in /api/v1/docs.
This fails the day a second class takes a name already used."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_no_two_api_schemas_share_a_name():
    import kehu.config.api  # noqa: F401 — every app's routers, so every schema class exists

    modules: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("kehu."):
            modules[cls.__name__].add(cls.__module__)
    assert {name: sorted(m) for name, m in modules.items() if len(m) > 1} == {}
