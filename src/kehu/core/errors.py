"""Exceptions services raise; the web views and the API translate them the same way."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

__all__ = ["Http404", "PermissionDenied", "ValidationError", "VersionConflict", "field_errors"]


class VersionConflict(Exception):
    """The record changed since the caller read it (optimistic concurrency)."""

    def __init__(self, current_version: int):
        super().__init__(f"record is at version {current_version}")
        self.current_version = current_version


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Flatten a ValidationError into [{"field": ..., "message": ...}]."""
    if hasattr(error, "error_dict"):
        return [
            {"field": field, "message": str(message)}
            for field, errors in error.error_dict.items()
            for item in errors
            for message in item.messages
        ]
    return [{"field": "__all__", "message": str(m)} for m in error.messages]
