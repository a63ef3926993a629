"""Round trip: a customer export re-imports with --match as an update that changes nothing.

Waits for `kehu import` (the import engineers' command): until it lands this test fails
with "Unknown command: 'import'", on purpose — it is not skipped.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kehu.core.models import ChangeLog
from kehu.customers.selectors import customers_visible
from kehu.customers.services import custom_field_save

pytestmark = pytest.mark.django_db


def snapshot(viewer) -> list[tuple]:
    return list(customers_visible(viewer=viewer).order_by("pk").values_list(
        "pk", "version", "name", "kind", "industry", "phones", "emails", "credit_code",
        "owner_id", "notes", "updated_at"))


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_reimports_as_an_update_that_changes_nothing(
        tmp_path, root, alice, make_customer, fmt):
    custom_field_save(actor=root, origin="manual",
                      data={"key": "spent", "label": "累计消费金额", "field_type": "number"})
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678", "021-62345678"],
                  emails=["buyer@xihu-tea.cn"], credit_code="91110000802100433B",
                  industry="retail", tags=["重点客户", "华东茶商"], custom={"spent": "12800.50"},
                  notes="=老客户，-5% 折扣")
    make_customer(alice, name="宁波港口物流有限公司", credit_code="913301061000000071",
                  phones=["13900001111"], industry="logistics")
    path = tmp_path / f"customers.{fmt}"
    call_command("export", "customers", as_user="alice", output=str(path))
    before = snapshot(alice)
    changes = ChangeLog.objects.exclude(action="export").count()

    call_command("import", "customers", str(path), match="credit_code,phone,email",
                 owner="alice")

    assert snapshot(alice) == before  # same rows, same versions: nothing created or updated
    assert ChangeLog.objects.exclude(action__in=["export", "start"]).exclude(
        model__startswith="transfer.").count() == changes
