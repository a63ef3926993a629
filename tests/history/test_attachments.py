"""Files on a communication: stored under the data directory, with size and type limits."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.history import services
from kehu.history.models import Attachment
from tests.history.conftest import files_on_disk


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.KEHU_ATTACHMENT_MAX_BYTES = 1024
    return settings.MEDIA_ROOT


@pytest.fixture
def call(alice, alices_customer):
    return services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                      data={"subject": "发送报价"})


def test_a_quote_is_attached_and_stored_under_the_data_directory(
    alice, call, media, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 quote", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):  # the file is written at commit
        attachment = services.attachment_add(actor=alice, origin="manual", communication=call,
                                             upload=upload)
    assert (attachment.original_name, attachment.size) == ("报价单.pdf", 14)
    assert attachment.content_type == "application/pdf"
    assert files_on_disk(media) == [media / attachment.file.name]


def test_a_file_over_the_limit_is_refused_with_a_clear_message_and_nothing_on_disk(
    alice, call, media
):
    upload = SimpleUploadedFile("现场照片.jpg", b"x" * 3000, content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=alice, origin="manual", communication=call, upload=upload)
    message = error.value.message_dict["file"][0]
    assert "现场照片.jpg" in message and "2.9 KB" in message and "1.0 KB" in message
    assert files_on_disk(media) == [] and not Attachment.objects.exists()


def test_a_forbidden_type_is_refused(alice, call, media):
    upload = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=alice, origin="manual", communication=call, upload=upload)
    assert "setup.exe" in error.value.message_dict["file"][0]
    assert files_on_disk(media) == []


def test_the_analyst_cannot_attach_and_deleting_the_call_removes_its_files(
    alice, anna, call, media, django_capture_on_commit_callbacks
):
    with pytest.raises(PermissionDenied):
        services.attachment_add(actor=anna, origin="manual", communication=call,
                                upload=SimpleUploadedFile("a.txt", b"hi"))
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_add(actor=alice, origin="manual", communication=call,
                                upload=SimpleUploadedFile("a.txt", b"hi"))
    assert len(files_on_disk(media)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.communication_delete(actor=alice, origin="manual", communication=call)
    assert files_on_disk(media) == []
