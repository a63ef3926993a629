"""The one parser of the version a client says it read (optimistic concurrency).

Every record carries `version`; a change must name the version it was made from, so
two people editing the same record cannot silently overwrite each other. The web
forms send it as a hidden `version` field, the API as `If-Match: "3"` (the ETag it
read). Both go through `parse_version`:

- a number ("3", '"3"', 'W/"3"') is the expected version; the service answers a
  stale one with VersionConflict (412 in the API, a clear message on the web);
- nothing at all is `VersionMissing` (428 Precondition Required in the API, a form
  error on the web) — never a silently skipped check;
- anything else is a ValidationError naming the field (422 / a form error) — never
  a 500, and never a skipped check either;
- "*" (only where the caller allows it: the API's `If-Match: *`) says explicitly
  "whatever the current version is" and returns None.

This module imports no app.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ANY = "*"
# 3, "3" or W/"3": ASCII digits only ("²" is a digit to Python), at most 18 of them.
_VERSION = re.compile(r'(?:W/)?"([0-9]{1,18})"|([0-9]{1,18})', re.ASCII)


class VersionMissing(ValidationError):
    """A change that does not say which version it was made from."""


def parse_version(value: Any, *, field: str = "version", allow_any: bool = False) -> int | None:
    """The version in `value`; raises VersionMissing or ValidationError naming `field`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise VersionMissing({field: [_missing_message(field)]})
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < 10**18:
            return value
    elif isinstance(value, str):
        text = value.strip()
        if allow_any and text == ANY:
            return None
        match = _VERSION.fullmatch(text)
        if match:
            return int(match.group(1) or match.group(2))
    raise ValidationError({field: [_junk_message(field)]})


def _missing_message(field: str) -> str:
    if field == "If-Match":
        return _("缺少 If-Match：修改或删除时请带上读取记录时的 ETag，例如 If-Match: \"3\"")
    return _("缺少版本号：请刷新页面，看过最新内容后再保存")


def _junk_message(field: str) -> str:
    if field == "If-Match":
        return _("If-Match 应为记录的版本号，例如 \"3\"")
    return _("版本号无效：应为读取记录时的版本号，例如 3")


class VersionField(forms.Field):
    """The hidden `version` of a web edit form, parsed by `parse_version`."""

    widget = forms.HiddenInput
    default_error_messages = {"required": gettext_lazy("缺少版本号：请刷新页面，看过最新内容后再保存")}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            return parse_version(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages, code="invalid") from exc


class VersionedForm(forms.Form):
    """A form for a versioned record: a hidden `version`, and its errors shown at the top.

    Creating leaves the version optional (there is none yet); an edit calls
    `require_version()`, so an edit posted without it is a form error, not a lost update.
    A hidden field has nowhere to show its error, so a missing or junk version is
    reported with the form's own errors (next to "load the latest version").
    """

    version = VersionField(required=False)

    def require_version(self) -> None:
        self.fields["version"].required = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        messages = self._errors.pop("version", None)
        if messages:
            self.add_error(None, list(messages))
        return cleaned
