"""The blank template reads back as a sheet whose headers map to every field."""

import io

import openpyxl
import pytest

from kehu.customers.services import custom_field_save
from kehu.transfer.blank import write_blank_template
from kehu.transfer.mapping import guess_mapping, importable_fields
from kehu.transfer.reading import open_sheet

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["customers", "orders", "communications"])
def test_the_template_maps_back_to_its_own_fields(tmp_path, root, target):
    custom_field_save(actor=root, origin="manual",
                      data={"key": "spent", "label": "累计消费金额", "field_type": "number"})
    path = tmp_path / f"{target}.xlsx"
    with path.open("wb") as handle:
        write_blank_template(target, handle)
    sheet = open_sheet(path)
    keys = [f.key for f in importable_fields(target)]
    assert list(guess_mapping(sheet.headers, target).values()) == keys
    assert sheet.header_row == 1 and len(list(sheet.rows())) == 1


def test_required_columns_are_marked_and_id_like_ones_are_text(db):
    buffer = io.BytesIO()
    write_blank_template("customers", buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    headers = [c.value for c in sheet[1]]
    assert "客户名称*" in headers and "客户类型" in headers and "备注" in headers
    phones = headers.index("电话") + 1
    assert sheet.cell(row=1, column=phones).value == "电话"
    assert sheet.column_dimensions[openpyxl.utils.get_column_letter(phones)].number_format == "@" \
        or sheet.cell(row=2, column=phones).data_type == "s"
