"""Every table that names a customer or a contact and holds free text is either a holding
(privacy/holdings.py: exported by access requests, redacted by erasures), erased by
erasure.py itself, or listed here as holding nothing personal — with the reason. A new
customer-bound model with text fails this test until someone decides which it is."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from kehu.privacy.holdings import holdings

PERSON_MODELS = ("customers.Customer", "customers.Contact")

# Cleared or rebuilt by privacy/erasure.py itself, not redacted field by field.
ERASED_BY_ERASURE = {
    "customers.Contact": "cleared (name → 已删除联系人, every contact field emptied)",
    "customers.CustomValue": "text values replaced (whole customer) or scrubbed (one contact)",
    "customers.CustomerKey": "rebuilt from the anonymised customer: nothing left to key",
    "customers.MergeRecord": "snapshots emptied: such a merge can no longer be undone",
    "core.ChangeLog": "the person's rows erased, the others scrubbed, seals re-figured",
    "audit.AuditEntry": "redacted with the erasure pinning the new MAC (audit/redaction.py)",
}

# Customer-bound, with text, and nothing in it is about the person.
NOT_PERSONAL = {
    "classification.ClassChange": "rule names and the figures a rule computed (amounts, days)",
    "classification.CustomerFigures": "the RFM segment's code",
}

# Text fields of a holding that are not about the person.
NOT_PERSONAL_FIELDS = {
    "history.Order": {"number", "external_number", "currency"},
    "history.Preference": {"currency"},
    "history.Opportunity": {"currency"},
    "privacy.Consent": {"notice_version"},
}


def _customer_bound(model: type[models.Model]) -> bool:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is not None and \
                field.related_model._meta.label in PERSON_MODELS:
            return True
        if field.name == "customer_id":  # a plain id column (the log, the audit trail)
            return True
    return False


def _free_text(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and not f.choices}


def test_every_customer_bound_model_with_text_is_accounted_for():
    held = {h.model: h for h in holdings()}
    unaccounted = []
    for model in apps.get_models():
        label = model._meta.label
        if not model.__module__.startswith("kehu") or label in PERSON_MODELS[:1]:
            continue
        if not _customer_bound(model) or not _free_text(model):
            continue
        if label not in held and label not in ERASED_BY_ERASURE and label not in NOT_PERSONAL:
            unaccounted.append(label)
    assert unaccounted == [], "add a Holding, or say why it holds nothing personal"


def test_every_text_field_of_a_holding_is_redacted_or_said_not_personal():
    for holding in holdings():
        model = holding.model_class
        left = _free_text(model) - set(holding.text) - set(holding.json) \
            - NOT_PERSONAL_FIELDS.get(holding.model, set())
        assert left == set(), f"{holding.model}: {sorted(left)} neither redacted nor listed"
        for name in holding.text:  # a renamed field fails here; a choice would be broken
            assert not model._meta.get_field(name).choices, f"{holding.model}.{name}"


def test_the_lists_name_only_models_that_exist():
    for label in (*ERASED_BY_ERASURE, *NOT_PERSONAL, *NOT_PERSONAL_FIELDS):
        apps.get_model(label)
