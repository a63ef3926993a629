"""One check of every API operation's input: no NUL, no lone surrogate, no integer past 64 bits.

Installed on the whole API (`api.add_decorator` in `kehu.api.site.make_api`), so it runs for
every operation after authentication and after ninja has validated the parameters
against their schemas, and before the endpoint. It looks at every value the endpoint
receives — path, query, header, JSON or form body, nested to any depth — and at the
raw query string too (`cf_*` filters are read from it directly). One 422 lists every
bad field, named as in every other error (`name`, `custom.level`, `orders.3.status`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Schema

from kehu.core.inputs import malformed


def refuse_malformed_input(view_func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view_func)
    def checked(request: HttpRequest, *args: Any, **values: Any) -> Any:
        found = malformed(request.GET)
        for name, value in values.items():
            # Query[...] / Path[...] schemas and the body are flattened: their fields are the names.
            prefix = "" if hasattr(type(value), "model_fields") else name
            for field, messages in malformed(value, prefix).items():
                found.setdefault(field, [])
                found[field] += [m for m in messages if m not in found[field]]
        if found:
            raise ValidationError(found)
        return view_func(request, *args, **values)

    return checked


def payload_data(payload: Schema) -> dict[str, Any]:
    """Only what the client sent: a PATCH must not blank the fields it left out."""
    return payload.model_dump(exclude_unset=True)
