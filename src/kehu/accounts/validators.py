"""Password validators used by AUTH_PASSWORD_VALIDATORS beyond Django's own."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with an error message that is translated: Django 5.2 changed the message's
    msgid and its zh-hans catalogue still holds the old one, so the error came out in English."""

    def get_error_message(self) -> str:
        return ngettext(
            "密码太短：至少需要 %(min_length)d 个字符。",
            "密码太短：至少需要 %(min_length)d 个字符。",
            self.min_length,
        ) % {"min_length": self.min_length}
