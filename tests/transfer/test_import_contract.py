"""A rep uploads a sheet, configures its mapping and match keys, saves a named mapping;
runs are private to whoever started them (and admins)."""

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from kehu.core.models import ChangeLog
from kehu.transfer.models import ImportRun
from kehu.transfer.selectors import import_get, import_list, mapping_templates
from kehu.transfer.services import import_configure, import_upload, mapping_template_save

pytestmark = pytest.mark.django_db
GBK = Path(__file__).resolve().parents[1] / "data" / "customers_gbk.csv"
XLSX = Path(__file__).resolve().parents[1] / "data" / "customers_messy.xlsx"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def upload(actor, path=GBK, target="customers"):
    return import_upload(actor=actor, origin="manual", target=target, file=path,
                         filename=path.name)


def test_alice_uploads_the_gbk_sheet_and_gets_its_header_and_a_guessed_mapping(alice, settings):
    run = upload(alice)
    assert (run.kind, run.encoding, run.header_row) == ("csv", "gb18030", 1)
    assert run.headers[0] == "客户名称" and run.mapping["客户名称"] == "name"
    assert run.mapping["手机"] == "phones"
    stored = Path(settings.MEDIA_ROOT) / run.stored_path
    assert stored.read_bytes() == GBK.read_bytes()
    assert stored.parent.name == str(run.pk)
    assert ChangeLog.objects.filter(model="transfer.importrun", object_id=run.pk,
                                    action="upload", actor=alice).exists()


def test_the_xlsx_header_under_its_title_row_is_found(alice):
    run = upload(alice, XLSX)
    assert run.kind == "xlsx" and run.header_row > 1
    assert "name" in run.mapping.values()


def test_a_file_that_is_no_sheet_is_refused_naming_it_and_nothing_is_kept(alice, tmp_path, settings):
    empty = SimpleUploadedFile("客户.csv", b"")
    with pytest.raises(ValidationError) as caught:
        import_upload(actor=alice, origin="manual", target="customers", file=empty,
                      filename="../../客户.csv")
    assert "客户.csv" in caught.value.message_dict["file"][0]
    assert not ImportRun.objects.exists()
    assert not list((Path(settings.MEDIA_ROOT) / "imports").glob("*/*"))


def test_mallory_configures_match_keys_and_gives_the_customers_to_bob(mallory, bob):
    run = upload(mallory)
    run = import_configure(actor=mallory, origin="manual", run=run, mapping=run.mapping,
                           match=["phone", "email", "credit_code"], owner=bob.pk)
    run.refresh_from_db()
    assert run.match == ["phone", "email", "credit_code"] and run.owner == bob
    run = import_configure(actor=mallory, origin="manual", run=run, mapping=run.mapping,
                           match=["none"])
    assert run.match == [] and run.owner is None


def test_every_configuration_problem_is_named_at_once(alice, bob):
    run = upload(alice)
    mapping = dict(run.mapping, 客户名称="", 手机="no_such_field", 外星列="name")
    mapping = {h: ("" if k == "phones" else k) for h, k in mapping.items()}
    with pytest.raises(ValidationError) as caught:
        import_configure(actor=alice, origin="manual", run=run, mapping=mapping,
                         match=["phone", "fax"], owner=bob.pk)  # a rep owns what she imports
    errors = caught.value.message_dict
    text = " ".join(errors["mapping"])
    assert "no_such_field" in text and "外星列" in text and "客户名称" in text
    assert len(errors["match"]) == 2  # "fax" unknown; "phone" has no column left
    assert errors["owner"]


def test_a_run_is_private_to_its_actor_and_admins(alice, bob, root):
    run = upload(alice)
    assert import_get(viewer=alice, pk=run.pk) == run
    assert import_get(viewer=root, pk=str(run.pk)) == run
    for pk in (run.pk, "x", -1):
        with pytest.raises(Http404):
            import_get(viewer=bob, pk=pk)
    assert import_list(viewer=bob) == [] and import_list(viewer=alice) == [run]
    with pytest.raises(PermissionDenied):
        import_configure(actor=bob, origin="manual", run=run, mapping=run.mapping, match=[])


def test_named_mappings_are_reused_own_or_shared(alice, bob):
    mapping_template_save(actor=alice, origin="manual", name="大客户表", target="customers",
                          mapping={"客户名称": "name"})
    shared = mapping_template_save(actor=bob, origin="manual", name="团队表",
                                   target="customers", mapping={"公司": "name"}, shared=True)
    mapping_template_save(actor=bob, origin="manual", name="私有", target="customers",
                          mapping={"公司": "name"})
    assert [t.name for t in mapping_templates(viewer=alice, target="customers")] == ["团队表", "大客户表"]
    assert mapping_templates(viewer=alice, target="orders") == []
    again = mapping_template_save(actor=bob, origin="manual", name="团队表", target="customers",
                                  mapping={"公司名称": "name"}, shared=True)
    assert again.pk == shared.pk and again.mapping == {"公司名称": "name"}
    with pytest.raises(ValidationError):
        mapping_template_save(actor=alice, origin="manual", name="坏", target="customers",
                              mapping={"x": "nope"})
