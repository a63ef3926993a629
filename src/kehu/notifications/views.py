"""The notification pages: the list, marking read, and the bell fragment the header polls.

Thin by rule: each view parses, calls a selector or service, renders. Someone else's
notification is a 404 from the selector, the same as a missing one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from kehu.core.views import redirect, render_page, safe_next, web_view
from kehu.notifications import selectors, services


@require_safe
@web_view
def notification_list(request: HttpRequest) -> HttpResponse:
    page = selectors.notifications_for(request.user, cursor=request.GET.get("cursor") or None)
    return render_page(request, "notifications/list.html", "notifications/partials/items.html",
                       {"page": page})


@web_view
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read, then open what it is about (or go back, with `stay`, or without a link).

    The lookup comes before the method check: someone else's notification is a 404 for
    every method, exactly like a missing one.
    """
    notification = selectors.notification_get(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.notification_mark_read(actor=request.user, notification_ids=[notification.pk])
    if notification.link and not request.POST.get("stay") and services.is_site_path(notification.link):
        return redirect(notification.link)
    return redirect(safe_next(request, reverse("notifications:list")))


@require_POST
@web_view
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_read(actor=request.user, everything=True)
    return redirect(safe_next(request, reverse("notifications:list")))


@require_safe
def bell(request: HttpRequest) -> HttpResponse:
    """The bell with its count, for the header's polling. Signed out: 204, nothing to swap
    (a redirect to the login page would put the login form into the header)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    page = urlsplit(request.htmx.current_url_abs_path or "").path
    return render(request, "notifications/partials/bell.html",
                  {"bell_current": page == reverse("notifications:list")})
