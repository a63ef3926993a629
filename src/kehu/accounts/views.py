"""Account views: switching the interface language."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from kehu.accounts.services import user_set_language
from kehu.core.errors import ValidationError
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
