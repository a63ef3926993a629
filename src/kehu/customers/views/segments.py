"""Saved segments: save the list's condition, open a segment's page, delete one.

Thin: the rules (who sees which segment, who may publish, whose customers are members)
live in customers.segments.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.core.errors import ValidationError
from kehu.core.views import error_messages, flash_errors, redirect, safe_next, web_view
from kehu.customers.builder import condition_words
from kehu.customers.segments import (
    segment_condition,
    segment_delete,
    segment_get,
    segment_members,
    segment_save,
)
from kehu.customers.views.common import WEB


def segment_url(pk: int, back: str = "") -> str:
    """The customer list filtered by a segment (keeping the search and sort of `back`)."""
    kept = {k: v for k, v in parse_qsl(urlsplit(back).query) if k in ("q", "sort")}
    return f"{reverse('customers:list')}?{urlencode({**kept, 'segment': pk})}"


@require_POST
@web_view
def segment_create(request: HttpRequest) -> HttpResponse:
    back = safe_next(request, reverse("customers:list"))
    data = {k: request.POST.get(k, "") for k in ("name", "visibility", "condition")}
    try:
        segment = segment_save(actor=request.user, origin=WEB, data=data)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(back)
    messages.success(request, _("已保存分群“%(name)s”") % {"name": segment.name})
    return redirect(segment_url(segment.pk, back))


@web_view
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = segment_get(viewer=request.user, pk=pk)
    context = {"segment": segment, "list_url": segment_url(segment.pk),
               "is_owner": segment.owner_id == request.user.pk,
               "may_delete": segment.owner_id == request.user.pk or access_for(request.user).is_admin}
    try:
        context["words"] = condition_words(segment_condition(segment), viewer=request.user)
        # The viewer's own count, here only: one COUNT for one segment (the list shows none).
        context["count"] = segment_members(viewer=request.user, segment=segment).count()
    except ValidationError as exc:
        context["broken"] = error_messages(exc)
    return render(request, "customers/segment.html", context)


@require_POST
@web_view
def segment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    segment = segment_get(viewer=request.user, pk=pk)
    try:
        segment_delete(actor=request.user, origin=WEB, segment=segment)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(reverse("customers:segment", args=[pk]))
    messages.success(request, _("已删除分群“%(name)s”") % {"name": segment.name})
    return redirect(reverse("customers:list"))
