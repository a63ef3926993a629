"""Account views: switching the interface language; the settings area's front page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.services import user_set_language
from kehu.accounts.templatetags.settings_area import menu_items
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.views import safe_next


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Save the choice on the signed-in user; the cookie also covers the login page."""
    code = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_next(request, "/"))
    if code not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        try:
            user_set_language(user=request.user, language=code)
        except ValidationError:
            return response
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600,
                        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


@login_required
def settings_index(request: HttpRequest) -> HttpResponse:
    """The settings area's front page: the sections the person may open (设置).

    Someone with no section to open gets 403, as on each one.
    """
    items = menu_items(request)
    if not items:
        raise PermissionDenied(_("只有管理员可以打开设置"))
    return render(request, "settings/index.html", {"items": items})
