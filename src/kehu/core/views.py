"""Small helpers every web view uses.

Views stay thin: they parse input, call a service or selector, and render. The
errors services raise are translated here, once, the same way for every page:
Http404 and PermissionDenied go to Django's 404/403 handlers (so "missing" and
"out of scope" look identical), ValidationError is attached to the form it
belongs to, and VersionConflict becomes a clear message instead of a lost edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.errors import ValidationError, VersionConflict
from kehu.core.inputs import malformed

View = Callable[..., HttpResponse]


def web_view(view: View) -> View:
    """`login_required` plus the one translation of service errors no form can show.

    A ValidationError or VersionConflict that reaches here (an action button,
    not a form) is reported on a small page with status 400 / 409. Input no field
    may hold (a NUL byte anywhere in the query or the form) is refused first, the
    same way (`kehu.core.inputs`).
    """

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _refuse_malformed(request)
            return view(request, *args, **kwargs)
        except VersionConflict as exc:
            return render(request, "errors/conflict.html",
                          {"current_version": exc.current_version}, status=409)
        except ValidationError as exc:
            return render(request, "errors/invalid.html",
                          {"errors": error_messages(exc)}, status=400)

    return wrapped


def _refuse_malformed(request: HttpRequest) -> None:
    """A NUL byte (or a lone surrogate) in any query or form value: the 400 page, naming it."""
    found = {**malformed(request.GET), **malformed(request.POST)}
    if found:
        raise ValidationError({field: [f"{field}: {message}" for message in messages_]
                               for field, messages_ in found.items()})


def error_messages(error: ValidationError) -> list[str]:
    """Every message of a ValidationError, flattened for display."""
    if hasattr(error, "error_dict"):
        return [str(m) for items in error.error_dict.values() for item in items for m in item.messages]
    return [str(m) for m in error.messages]


# The parts of a condition builder's row, for errors named "condition.all.1.value".
CONDITION_PARTS = {"field": gettext_lazy("字段"), "op": gettext_lazy("比较"),
                   "value": gettext_lazy("值")}


def attach_errors(
    form: forms.Form, error: ValidationError, field_map: Callable[[str], str] | None = None
) -> None:
    """Show a service's ValidationError inline: each message next to the field it names.

    `field_map` turns a service field name ("custom.size") into a form field
    name ("cf_size"); anything the form has no field for goes to the top. A condition's
    error goes to the `condition` field, said by the builder's row it names
    ("condition.all.1.value" → 第 2 条的值：必填).
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, items in error.error_dict.items():
        messages_ = [str(m) for item in items for m in item.messages]
        if name.startswith("condition."):
            name, messages_ = _condition_row(name, messages_)
        field = field_map(name) if field_map else name
        target = field if field in form.fields else None
        form.add_error(target, messages_)


def _condition_row(name: str, said: list[str]) -> tuple[str, list[str]]:
    path = name.split(".")
    if len(path) == 4 and path[2].isdigit() and path[3] in CONDITION_PARTS:
        row = _("第 %(n)d 条的%(part)s") % {"n": int(path[2]) + 1,
                                          "part": CONDITION_PARTS[path[3]]}
        said = [f"{row}：{m}" for m in said]
    return "condition", said


def save_form(form: forms.Form, write: Callable[[], Any]) -> Any:
    """Call the service; its errors go next to the form's fields, a stale version to the
    top (conflict_message). Returns what the service returned, None when it refused."""
    try:
        return write()
    except ValidationError as exc:
        attach_errors(form, exc)
    except VersionConflict:
        form.add_error(None, conflict_message())
    return None


def is_partial(request: HttpRequest) -> bool:
    """An HTMX swap asks for a fragment; a history restore needs the whole page again."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page(
    request: HttpRequest, full: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The same URL renders the full page, or only `partial` for an HTMX request."""
    response = render(request, partial if is_partial(request) else full, context, status=status)
    patch_vary_headers(response, ["HX-Request"])  # a cache must not mix page and fragment
    return response


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` parameter if it points back into this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def flash_errors(request: HttpRequest, error: ValidationError | VersionConflict) -> None:
    """Report errors of an action button as messages on the page we return to."""
    if isinstance(error, VersionConflict):
        messages.error(request, conflict_message())
        return
    for message in error_messages(error):
        messages.error(request, message)


def press_button(request: HttpRequest, write: Callable[[], Any], *, done: str, to: str,
                 refused_to: str | None = None) -> HttpResponseRedirect:
    """An action button (delete, deactivate …): run the service, say `done` and go to `to`;
    a refusal (ValidationError, VersionConflict) is said on `refused_to` (default: `to`)."""
    try:
        write()
    except (ValidationError, VersionConflict) as exc:
        flash_errors(request, exc)
        return redirect(refused_to or to)
    messages.success(request, done)
    return redirect(to)


def conflict_message() -> str:
    return _("保存失败：这条记录刚被别人修改过。请刷新页面，看过最新内容后再改。")


def redirect(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url)


def display_phone(value: str) -> str:
    """+8613812345678 as 138 1234 5678; masked or odd values are shown as they are."""
    try:
        number = phonenumbers.parse(value.split(";")[0], None)
    except phonenumbers.NumberParseException:
        return value
    region = phonenumbers.region_code_for_number(number)
    style = phonenumbers.PhoneNumberFormat
    fmt = style.NATIONAL if region == settings.KEHU_PHONE_REGION else style.INTERNATIONAL
    extension = value.partition(";ext=")[2]
    text = phonenumbers.format_number(number, fmt)
    if extension and "ext" not in text:
        return _("%(number)s 转 %(extension)s") % {"number": text, "extension": extension}
    return text


def lines(text: str | None) -> list[str]:
    """One value per line (a textarea of phones or emails)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def joined(values: Iterable[Any] | None, sep: str = "\n") -> str:
    return sep.join(str(v) for v in values or [])
