"""`access` in every template: what the signed-in person may do, so a page shows only the
buttons and links whose acts the services would allow (they check again: hiding is manners,
not security)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kehu.accounts.policy import access_for


def access(request: HttpRequest) -> dict[str, Any]:
    return {"access": SimpleLazyObject(lambda: access_for(getattr(request, "user", None)))}
