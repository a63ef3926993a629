"""Masked display of sensitive values (138****1234) for roles that must not read them."""

from __future__ import annotations


def mask_phone(value: str) -> str:
    digits = value.removeprefix("+86")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 7 else 1
    return digits[:keep_head] + "****" + digits[-4:]


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    if not domain:
        return mask_text(value)
    return (local[:1] or "*") + "***@" + domain


def mask_text(value: str) -> str:
    """For ID-like values: keep the first and last few characters only."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_value(kind: str, value):
    if not value:
        return value
    if isinstance(value, list):
        return [mask_value(kind, item) for item in value]
    return {"phone": mask_phone, "email": mask_email}.get(kind, mask_text)(value)
