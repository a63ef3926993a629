"""Merging two customers (the duplicates page links here with ?a=<survivor>&b=<duplicate>),
the merge's result with its undo button, and the undo.

Thin like every view: parse input, call a selector or a service, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.errors import ValidationError
from kehu.core.versions import parse_version
from kehu.core.views import error_messages, flash_errors, redirect, web_view
from kehu.customers import merging
from kehu.customers.merge_selectors import (
    merge_can_undo,
    merge_get,
    merge_preview,
    moved_counts,
)
from kehu.customers.scoping import as_pk
from kehu.customers.views.common import WEB

MANUAL = "manual"  # the radio that takes the typed value of manual.<field>


@web_view
def customer_merge(request: HttpRequest) -> HttpResponse:
    """GET: both customers side by side; POST: merge b into a, then the result page."""
    merging.may_merge(request.user)
    source = request.POST if request.method == "POST" else request.GET
    a, b = as_pk(source.get("a")), as_pk(source.get("b"))
    preview = merge_preview(viewer=request.user, survivor=a, duplicate=b)
    errors: list[str] = []
    if request.method == "POST":
        versions = {a: parse_version(request.POST.get("version_a")),
                    b: parse_version(request.POST.get("version_b"))}
        try:
            record = merging.customer_merge(actor=request.user, origin=WEB, survivor=a,
                                            duplicate=b, choices=_choices(request, preview),
                                            expected_versions=versions)
        except ValidationError as exc:
            errors = error_messages(exc)
        else:
            messages.success(request, _("已把 %(dup)s 合并到 %(name)s") % {
                "dup": record.duplicate_name, "name": preview.survivor.name})
            return redirect(reverse("customers:merge_detail", args=[record.pk]))
    _show_chosen(request, preview)
    return render(request, "customers/merge.html", {"preview": preview, "errors": errors})


def _choices(request: HttpRequest, preview: Any) -> dict[str, Any]:
    """The radios of the differing rows; "manual" takes the typed value beside it."""
    choices = {}
    for row in preview.rows:
        choice = request.POST.get(row.key, row.default)
        if choice == MANUAL and row.typed:
            choices[row.key] = request.POST.get(f"manual.{row.key}", "")
        elif choice in dict(row.options):
            choices[row.key] = choice
    return choices


def _show_chosen(request: HttpRequest, preview: Any) -> None:
    """What each radio shows checked: the person's choice after a refusal, else the default."""
    for row in preview.rows:
        row.chosen = request.POST.get(row.key, row.default)
        row.typed_value = request.POST.get(f"manual.{row.key}", row.ours)


@web_view
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = merge_get(viewer=request.user, pk=pk)
    return render(request, "customers/merge_done.html", {
        "merge": record, "moved": moved_counts(record),
        "can_undo": merge_can_undo(viewer=request.user, record=record)})


@require_POST
@web_view
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        record = merging.customer_merge_undo(actor=request.user, origin=WEB, merge=pk)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(reverse("customers:merge_detail", args=[pk]))
    messages.success(request, _("已撤销合并，%(name)s 已恢复") % {"name": record.duplicate_name})
    return redirect(reverse("customers:detail", args=[record.duplicate_id]))
