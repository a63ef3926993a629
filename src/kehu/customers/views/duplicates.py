"""Probable duplicates while a customer is typed in: the hint under the form (htmx, on
every change), and the question before a create that shares a phone, e-mail or credit
code with a customer already in Kehu."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.core.errors import PermissionDenied
from kehu.core.views import lines, redirect, web_view
from kehu.customers.duplicates import Candidate, duplicates_for_input
from kehu.customers.duplicates_store import duplicate_pair_dismiss, duplicate_pair_list
from kehu.customers.jobs import DEDUP_JOB
from kehu.customers.views.common import WEB
from kehu.jobs.selectors import latest_of_kind
from kehu.jobs.services import job_start

CONFIRM = "confirm_duplicate"


def form_candidates(request: HttpRequest, exclude: int | None = None) -> list[Candidate]:
    """The duplicates of what the customer form holds (its raw fields, leniently cleaned)."""
    post = request.POST
    data = {"kind": post.get("kind", ""), "name": post.get("name", ""),
            "city": post.get("city", ""), "credit_code": post.get("credit_code", ""),
            "phones": lines(post.get("phones", "")), "emails": lines(post.get("emails", ""))}
    return duplicates_for_input(viewer=request.user, data=data, exclude=exclude)


def must_confirm(request: HttpRequest, candidates: list[Candidate]) -> bool:
    """A shared key asks once before the create goes on; a similar name only warns."""
    return any(c.hard for c in candidates) and request.POST.get(CONFIRM) != "1"


@require_POST
@web_view
def duplicate_hint(request: HttpRequest) -> HttpResponse:
    exclude = request.POST.get("customer_id")
    candidates = form_candidates(request, int(exclude) if exclude and exclude.isdigit() else None)
    return render(request, "customers/partials/duplicates.html", {"duplicates": candidates})


def warn_duplicates(request: HttpRequest, candidates: list[Candidate]) -> None:
    """After a save: name the customers it may duplicate (the one not in scope unnamed)."""
    if candidates:
        named = "、".join(c.name or _("其他同事名下的一位客户") for c in candidates)
        messages.warning(request, _("可能重复：%(names)s。可以在查重页合并。") % {"names": named})


# --- the duplicates page (查重) -------------------------------------------------------------


@web_view
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """The probable duplicates among the customers I may see, best first, from the last run."""
    pairs, total = duplicate_pair_list(viewer=request.user)
    return render(request, "customers/duplicates.html", {
        "pairs": pairs, "total": total, "last_run": latest_of_kind(DEDUP_JOB),
        "may_scan": access_for(request.user).is_admin})


@require_POST
@web_view
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    duplicate_pair_dismiss(actor=request.user, origin=WEB, pair_id=pk)
    messages.success(request, _("已标记为不是重复"))
    return redirect(reverse("customers:duplicates"))


@require_POST
@web_view
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    """Run the finder now (admins; it runs nightly anyway) and follow it in My jobs."""
    if not access_for(request.user).is_admin:
        raise PermissionDenied(_("只有管理员可以立即查重"))
    job = job_start(actor=request.user, origin=WEB, kind=DEDUP_JOB)
    return redirect(reverse("jobs:detail", args=[job.pk]))
