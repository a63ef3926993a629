"""A sheet as a team brings it: GBK or UTF-8 CSV, an xlsx with a title row, a header found by itself."""

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest
import xlsxwriter

from kehu.transfer.reading import SheetError, open_sheet, sample_rows

DATA = Path(__file__).resolve().parents[1] / "data"  # copies of ../shared/data
HEADER = "客户名称,客户类型,手机,邮箱\n"


def write(tmp_path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def workbook(tmp_path, rows, name="book.xlsx") -> Path:
    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, book.add_format({"num_format": "yyyy-mm-dd"}))
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


def test_the_gbk_sample_is_read_as_gb18030_with_its_header_on_row_one():
    sheet = open_sheet(DATA / "customers_gbk.csv")
    assert (sheet.kind, sheet.encoding, sheet.header_row) == ("csv", "gb18030", 1)
    assert sheet.headers[:3] == ["客户名称", "客户类型", "所属行业"]
    rows = list(sheet.rows())
    assert len(rows) == 1000
    assert rows[0][0] == 2 and rows[0][1][0] == "谭晓东"
    assert all(len(values) == len(sheet.headers) for _n, values in rows)


def test_the_messy_xlsx_skips_its_title_row_and_keeps_phones_as_digits():
    sheet = open_sheet(DATA / "customers_messy.xlsx")
    assert (sheet.kind, sheet.header_row) == ("xlsx", 2)
    assert sheet.headers[0] == "公司/客户名称" and "消费总额(元)" in sheet.headers
    number, values = next(sheet.rows())
    assert number == 3 and values[0] == "天津百川电子有限公司"
    assert len(list(sheet.rows())) == 1000


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_in_any_of_the_encodings_excel_writes_reads_the_same(tmp_path, encoding):
    # 𠮷 and 堃 are in names; plain gbk cannot encode 𠮷 at all.
    text = HEADER + "𠮷野家餐饮有限公司,企业,13800138000,a@b.cn\n王堃,个人,,\n"
    sheet = open_sheet(write(tmp_path, "a.csv", text.encode(encoding)))
    assert [values[0] for _n, values in sheet.rows()] == ["𠮷野家餐饮有限公司", "王堃"]
    assert sheet.encoding == encoding


def test_a_header_under_title_rows_and_empty_columns_are_found_and_dropped(tmp_path):
    path = workbook(tmp_path, [
        ["2025 年大客户跟踪表"],
        [],
        ["制表：销售一部", None, None, None, "日期：2025-10-31"],
        ["公司名称", None, "联系电话", "首次合作日期", "消费总额（元）"],
        ["甲公司", None, 13800138000.0, dt.datetime(2022, 7, 18), 12800.5],  # noqa: DTZ001 (Excel has no zones),
        [None, None, None, None, None],
        ["乙公司", None, "139 0000 0000", None, 35000],
        [],
        [],
    ])
    sheet = open_sheet(path)
    assert sheet.header_row == 4
    assert sheet.headers == ["公司名称", "联系电话", "首次合作日期", "消费总额（元）"]
    rows = list(sheet.rows())
    assert rows == [
        (5, ["甲公司", "13800138000", dt.date(2022, 7, 18), "12800.5"]),
        (7, ["乙公司", "139 0000 0000", "", "35000"]),
    ]


def test_without_known_words_the_first_mostly_filled_text_row_is_the_header(tmp_path):
    path = write(tmp_path, "odd.csv", "导出说明\nfoo,bar,baz\n1,2,3\n".encode())
    sheet = open_sheet(path)
    assert (sheet.header_row, sheet.headers) == (2, ["foo", "bar", "baz"])
    assert list(sheet.rows()) == [(3, ["1", "2", "3"])]


def test_a_repeated_header_is_kept_apart(tmp_path):
    sheet = open_sheet(write(tmp_path, "a.csv", "客户名称,电话,电话\n甲,1,2\n".encode()))
    assert sheet.headers == ["客户名称", "电话", "电话 (2)"]


def test_a_multiline_cell_keeps_its_row_number(tmp_path):
    text = '客户名称,备注\n甲,"第一行\n第二行"\n乙,\n'
    rows = list(open_sheet(write(tmp_path, "a.csv", text.encode())).rows())
    assert rows == [(2, ["甲", "第一行\n第二行"]), (3, ["乙", ""])]


def test_the_mapping_page_sample_is_the_first_rows():
    sheet = open_sheet(DATA / "customers_gbk.csv")
    assert [n for n, _v in sample_rows(sheet, 5)] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是表格文件"),
        ("empty.csv", b"", "空的"),
        ("blank.csv", b"\n\n , ,\n", "空的"),
        ("fake.xlsx", b"PK\x03\x04 this is no zip at all", "不是可读取的 Excel"),
        ("numbers.csv", b"1,2,3\n4,5,6\n", "找不到表头"),
        ("latin.csv", "客户名称\n".encode() + b"\xff\xfe\xfa\xff\n", "编码"),
    ],
)
def test_what_cannot_be_read_says_why_in_one_line(tmp_path, name, content, says):
    with pytest.raises(SheetError) as caught:
        list(open_sheet(write(tmp_path, name, content)).rows())
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_file_is_a_sheet_error(tmp_path):
    with pytest.raises(SheetError):
        open_sheet(tmp_path / "nope.csv")


def test_a_big_csv_streams_in_constant_memory(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for i in range(200_000):
            handle.write(f"客户{i},企业,1380013{i % 10000:04d},c{i}@example.com\n")
    sheet = open_sheet(path)
    tracemalloc.start()
    count = sum(1 for _row in sheet.rows())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 200_000
    # The file is ~9 MB; a list of its rows would take well over 100 MB.
    assert peak < 5 * 1024 * 1024


def test_counting_a_csv_counts_the_rows_it_reads(tmp_path):
    content = ("客户名单（2024）\n\n" + HEADER + "甲公司,企业,13800138000\n,,\n  ,\t,\n"
               "乙公司\n\n,,,c@example.com,多余\n丙,个人,13900139000,x@example.com\n")
    sheet = open_sheet(write(tmp_path, "名单.csv", content.encode()))
    assert sheet.count() == sum(1 for _row in sheet.rows()) == 4
