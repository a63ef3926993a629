"""The import pages as a rep meets them (so far: the blank template download)."""

import io

import openpyxl
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_rep_downloads_the_blank_customer_template(client, alice):
    client.force_login(alice)
    response = client.get(reverse("transfer:import_template", args=["customers"]))
    assert response.status_code == 200
    assert 'filename="kehu-import-customers.xlsx"' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(row=1, column=1).value == "客户名称*"


def test_an_unknown_target_is_404_and_anonymous_goes_to_login(client, alice):
    url = reverse("transfer:import_template", args=["customers"])
    assert client.get(url).status_code == 302
    client.force_login(alice)
    assert client.get(reverse("transfer:import_template", args=["secrets"])).status_code == 404
