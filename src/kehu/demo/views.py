"""The admin's "load demo data" page: a form that starts the job and shows its progress."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from kehu.accounts.policy import access_for
from kehu.core.models import Origin
from kehu.demo import DEFAULT_CUSTOMERS, DEFAULT_SEED
from kehu.demo.services import WEB_LIMIT, demo_start


@login_required
def start(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).is_admin:
        raise PermissionDenied
    values = {"customers": DEFAULT_CUSTOMERS, "seed": DEFAULT_SEED}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {"customers": request.POST.get("customers", ""), "seed": request.POST.get("seed", "")}
        try:
            job = demo_start(actor=request.user, origin=Origin.MANUAL, **values)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            return redirect("jobs:detail", pk=job.pk)
    return render(request, "demo/start.html", {"values": values, "errors": errors,
                                               "limit": WEB_LIMIT}, status=400 if errors else 200)
