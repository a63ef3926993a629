"""Uploads as an attacker sends them (issue 7, findings 6, 8 and 9; issue 6 #5).

Real requests through the whole stack (middleware, upload handlers, views, the API), real
files under a temporary MEDIA_ROOT, and — where commit and rollback are the point — a real
transaction that commits (`transaction=True`), not the test's own wrapping one.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.test.client import encode_multipart
from django.urls import reverse

from kehu.accounts.services import token_create
from kehu.history import services
from kehu.history.models import Attachment, Communication
from tests.history.conftest import files_on_disk

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
BOUNDARY = "kehu-upload-test-boundary"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
GBK_CSV = "品名,数量\n龙井,2\n".encode("gbk")  # what Excel in China saves
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def call(alice, alices_customer):
    return services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                      data={"subject": "发送报价"})


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(user=user, name='upload')[1]}"}


class CountingInput(io.BytesIO):
    """The request body as a WSGI server hands it over, counting what the app reads."""

    consumed = 0

    def read(self, size=-1):
        data = super().read(size)
        self.consumed += len(data)
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self.consumed += len(data)
        return data


def post_streamed(client: Client, path: str, fields: dict, **extra):
    """POST a multipart body through a counting stream; returns (response, bytes read, size)."""
    body = encode_multipart(BOUNDARY, fields)
    stream = CountingInput(body)
    response = client.post(path, body, content_type=f"multipart/form-data; boundary={BOUNDARY}",
                           **{"wsgi.input": stream}, **extra)
    return response, stream.consumed, len(body)


def log_fields(**more):
    return {"channel": "visit", "direction": "outbound", "occurred_at": "2026-11-20T09:30",
            "subject": "上门送样", **more}


# --- finding 6: bodies and uploads over the limit -----------------------------------------


def test_body_over_the_limit_is_413_in_the_error_shape(alice, alices_customer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post(f"/api/v1/customers/{alices_customer.pk}/communications",
                             {"subject": "x", "content": "很长的内容" * 400},
                             content_type="application/json", headers=bearer(alice))
    assert response.status_code == 413
    body = response.json()
    assert body["detail"] == "Request body too large"
    [error] = body["errors"]
    assert error["field"] == "__all__"
    assert "1000 B" in error["message"] and "KB" in error["message"]  # its size and the limit
    assert not Communication.objects.exists()


def test_body_over_the_limit_is_a_413_page_in_the_web(alice, alices_customer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = browser_of(alice).post(reverse("history:log", args=[alices_customer.pk]),
                                      log_fields(content="很长的内容" * 400))
    assert response.status_code == 413
    html = response.content.decode()
    assert "内容太大" in html and "超过上限 1000 B" in html
    assert not Communication.objects.exists()


def test_upload_over_the_limit_is_refused_while_streaming(
    alice, call, media, settings, tmp_path
):
    settings.KEHU_ATTACHMENT_MAX_BYTES = 100 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = spool = tmp_path / "spool"  # 3 MB goes to a temporary file
    spool.mkdir()
    big = SimpleUploadedFile("现场录像.pdf", PDF + b"0" * (3 * 1024 * 1024))
    response, consumed, size = post_streamed(
        Client(), f"/api/v1/communications/{call.pk}/attachments", {"file": big},
        headers=bearer(alice))
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error["field"] == "file"
    message = error["message"]
    assert "现场录像.pdf" in message and "100.0 KB" in message  # the file and the limit
    received = float(re.search(r"已收到 ([\d.]+) KB", message).group(1))  # and what came in
    assert 100 < received < 300
    assert consumed < 300 * 1024 < size  # it stopped reading: 3 MB were never received
    assert not Attachment.objects.exists() and files_on_disk(media) == []
    assert files_on_disk(spool) == []  # the partial temporary file is gone too


def test_upload_over_the_limit_is_refused_while_streaming_in_the_web(
    alice, alices_customer, media, settings
):
    settings.KEHU_ATTACHMENT_MAX_BYTES = 100 * 1024
    path = reverse("history:log", args=[alices_customer.pk])
    big = SimpleUploadedFile("现场录像.pdf", PDF + b"0" * (3 * 1024 * 1024))
    response, consumed, size = post_streamed(browser_of(alice), path,
                                             log_fields(attachments=big))
    assert response.status_code == 413
    html = response.content.decode()
    assert "现场录像.pdf" in html and "100.0 KB" in html and "已收到" in html
    assert consumed < 300 * 1024 < size
    assert not Communication.objects.exists() and files_on_disk(media) == []


def test_upload_over_the_limit_over_htmx_shows_the_message_and_keeps_the_form(
    alice, alices_customer, media, settings
):
    settings.KEHU_ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("现场照片.jpg", b"\xff\xd8\xff\xe0" + b"0" * 5000)
    response, _consumed, _size = post_streamed(
        browser_of(alice), reverse("history:log", args=[alices_customer.pk]),
        log_fields(attachments=big), headers=HX)
    # HTMX swaps only 2xx answers: the message goes on top of the page, the form stays.
    assert response.status_code == 200
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#main", "afterbegin")
    assert 'role="alert"' in response.content.decode()
    assert "现场照片.jpg" in response.content.decode()
    assert not Communication.objects.exists()


def test_the_quick_log_still_checks_csrf_after_the_early_read(alice, alices_customer, media):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get(reverse("customers:detail", args=[alices_customer.pk]))  # sets the CSRF cookie
    path = reverse("history:log", args=[alices_customer.pk])
    assert client.post(path, log_fields(
        attachments=SimpleUploadedFile("报价单.pdf", PDF))).status_code == 403
    token = client.cookies["csrftoken"].value
    assert client.post(path, log_fields(
        csrfmiddlewaretoken=token,
        attachments=SimpleUploadedFile("报价单.pdf", PDF))).status_code == 302
    assert Communication.objects.get().attachments.count() == 1


# --- finding 8 and the consolidation: the call and its files, all or nothing --------------


@pytest.mark.django_db(transaction=True)
def test_refused_upload_leaves_no_file_behind(alice, alices_customer, media):
    response = browser_of(alice).post(reverse("history:log", args=[alices_customer.pk]),
                                      log_fields(attachments=[
                                          SimpleUploadedFile("报价单.pdf", PDF),
                                          SimpleUploadedFile("发票.pdf", HTML)]))
    assert response.status_code == 400
    assert "发票.pdf" in response.content.decode()
    assert not Communication.objects.exists() and not Attachment.objects.exists()
    assert files_on_disk(media) == []


@pytest.mark.django_db(transaction=True)
def test_a_call_logged_with_two_files_stores_both_after_the_commit(
    alice, alices_customer, media
):
    response = browser_of(alice).post(reverse("history:log", args=[alices_customer.pk]),
                                      log_fields(attachments=[
                                          SimpleUploadedFile("报价单.pdf", PDF),
                                          SimpleUploadedFile("清单.csv", GBK_CSV)]))
    assert response.status_code == 302
    communication = Communication.objects.get()
    stored = {a.original_name: a for a in communication.attachments.all()}
    assert set(stored) == {"报价单.pdf", "清单.csv"}
    assert stored["清单.csv"].content_type == "text/csv"
    assert files_on_disk(media) == sorted(media / a.file.name for a in stored.values())
    assert (media / stored["报价单.pdf"].file.name).read_bytes() == PDF


@pytest.mark.django_db(transaction=True)
def test_outer_rollback_removes_the_file(alice, call, media):
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        services.attachment_add(actor=alice, origin="manual", communication=call,
                                upload=SimpleUploadedFile("报价单.pdf", PDF))
        raise Abandoned  # the caller's transaction fails after attachment_add returned
    assert not Attachment.objects.exists() and files_on_disk(media) == []

    with transaction.atomic():  # the same, committed: now the file is there
        kept = services.attachment_add(actor=alice, origin="manual", communication=call,
                                       upload=SimpleUploadedFile("报价单.pdf", PDF))
        assert files_on_disk(media) == []  # not before the commit
    assert files_on_disk(media) == [media / kept.file.name]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_leaves_no_file_but_the_rest_is_stored(
    alice, alices_customer, media
):
    with transaction.atomic():
        kept = services.communication_log(
            actor=alice, origin="manual", customer=alices_customer, data={"subject": "留下"},
            attachments=[SimpleUploadedFile("留下.pdf", PDF)])
        with pytest.raises(ValidationError), transaction.atomic():
            services.communication_log(
                actor=alice, origin="manual", customer=alices_customer, data={"subject": "撤销"},
                attachments=[SimpleUploadedFile("撤销.pdf", PDF)])
            raise ValidationError("changed my mind")
    assert list(Communication.objects.values_list("subject", flat=True)) == ["留下"]
    assert files_on_disk(media) == [media / kept.attachments.get().file.name]


def test_the_quick_log_service_reports_every_bad_field_and_file_at_once(
    alice, alices_customer, media
):
    with pytest.raises(ValidationError) as error:
        services.communication_log(
            actor=alice, origin="manual", customer=alices_customer,
            data={"channel": "fax"},
            attachments=[SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("setup.exe", b"MZ"),
                         SimpleUploadedFile("b.pdf", HTML)])
    errors = error.value.message_dict
    assert set(errors) == {"channel", "attachments"}
    assert [m.split("”")[0] for m in errors["attachments"]] == ["文件“setup.exe", "文件“b.pdf"]
    assert not Communication.objects.exists()


# --- finding 9: the content must be what the extension says -------------------------------


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def test_pdf_holding_html_is_refused(alice, call, media, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=alice, origin="manual", communication=call,
                                upload=SimpleUploadedFile("report.pdf", HTML,
                                                          content_type="application/pdf"))
    [message] = error.value.message_dict["file"]
    assert "report.pdf" in message and ".pdf" in message and "HTML" in message
    assert not Attachment.objects.exists() and files_on_disk(media) == []

    response = Client().post(f"/api/v1/communications/{call.pk}/attachments",
                             {"file": SimpleUploadedFile("report.pdf", HTML)},
                             headers=bearer(alice))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["file"]
    assert "HTML" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(("name", "content"), [
    ("报价单.pdf", PDF),
    ("现场.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"),
    ("现场.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
    ("现场.jpeg", b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00II*\x00"),
    ("动图.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00"),
    ("样品.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"),
    ("合同.docx", _zip("[Content_Types].xml", "word/document.xml")),
    ("报表.xlsx", _zip("[Content_Types].xml", "xl/workbook.xml")),
    ("资料.zip", _zip("readme.txt")),
    ("旧合同.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024),
    ("纪要.txt", "客户要求下周送样。\n".encode()),
    ("名单.csv", "客户名称,电话\n杭州西湖茶业,13812345678\n".encode("gbk")),
    ("名单 (Excel).txt", "\ufeff客户\t电话\n".encode("utf-16")),
    ("品牌.txt", "BMW 客户名单\n".encode()),
])
def test_files_whose_content_matches_their_extension_are_accepted(alice, call, media, name,
                                                                  content):
    attachment = services.attachment_add(actor=alice, origin="manual", communication=call,
                                         upload=SimpleUploadedFile(name, content))
    assert attachment.original_name == name


@pytest.mark.parametrize(("name", "content", "says"), [
    ("report.pdf", HTML, "HTML"),
    ("notes.txt", b"  <script>fetch('/api/v1/customers')</script>", "HTML"),
    ("list.csv", "\ufeff<svg onload=alert(1)>".encode(), "HTML、XML 或脚本"),
    ("run.txt", b"#!/bin/sh\nrm -rf /\n", "脚本"),
    ("list.csv", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "不是 .csv 文本"),
    ("photo.png", PDF, "Adobe Portable Document Format"),
    ("photo.jpg", b"just some words", "无法识别的内容"),
    ("quote.txt", PDF, "Adobe Portable Document Format"),
    ("合同.docx", HTML, "HTML"),
    ("empty.pdf", b"", "是空的"),
])
def test_files_whose_content_does_not_match_are_refused_naming_what_they_look_like(
    alice, call, media, name, content, says
):
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=alice, origin="manual", communication=call,
                                upload=SimpleUploadedFile(name, content))
    [message] = error.value.message_dict["file"]
    assert name in message and says in message
    assert not Attachment.objects.exists()
