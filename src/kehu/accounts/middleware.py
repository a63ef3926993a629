"""Per-user interface language: a signed-in user's choice wins over the browser's."""

from __future__ import annotations

from django.utils import translation
from django.utils.deprecation import MiddlewareMixin


class UserLanguageMiddleware(MiddlewareMixin):
    """Before auth: the language cookie or the browser's Accept-Language."""

    def process_request(self, request):
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class UserLanguageAfterAuthMiddleware(MiddlewareMixin):
    """After auth: the signed-in user's saved language."""

    def process_request(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
