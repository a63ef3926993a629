"""The REST API under /api/v1/: one NinjaAPI, a router per app.

Every operation requires a bearer token or a signed-in session (see `auth`); every
error has the same JSON shape (see `errors`). Unknown paths and wrong methods under
/api/v1/ answer in that shape too instead of Django's HTML pages.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from ninja import NinjaAPI, Swagger

from kehu.accounts.api import router as accounts_router
from kehu.api import errors
from kehu.api.auth import AUTH
from kehu.customers.api import contacts_router, customers_router
from kehu.history.api import router as history_router


class KehuAPI(NinjaAPI):
    """NinjaAPI whose URL list ends in a JSON 404 and whose 405s are JSON."""

    def _get_urls(self) -> list:
        urls = [_json_405(p) if isinstance(p, URLPattern) else p for p in super()._get_urls()]
        urls.append(re_path(r"^.*$", _not_found, name="not-found"))
        return urls


def _json_405(pattern: URLPattern) -> URLPattern:
    view = pattern.callback

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = errors.error_response(405, "Method not allowed")
            response["Allow"] = allowed
        return response

    pattern.callback = wrapped
    return pattern


def _not_found(request: HttpRequest) -> HttpResponse:
    return errors.error_response(404, errors.NOT_FOUND)


api = KehuAPI(
    title="Kehu API", version="1", urls_namespace="api", auth=AUTH,
    description="客户管理 REST API. Authenticate with `Authorization: Bearer <token>`.",
    # Swagger UI otherwise fetches a validator badge from swagger.io: the docs stay offline.
    docs=Swagger(settings={"validatorUrl": None}),
)
errors.install(api)
api.add_router("/", accounts_router)
api.add_router("/", customers_router)
api.add_router("/", contacts_router)
api.add_router("/", history_router)
