"""The blank template sheet: the importable fields as headers and one example row.

Required columns are marked with `*` (the mapping ignores it when reading the sheet
back); id-like columns (phones, credit codes, order numbers) are formatted as text so
Excel keeps every digit of what the user types into them.
"""

from __future__ import annotations

from typing import IO

import xlsxwriter

from kehu.transfer.mapping import importable_fields

EXAMPLES = {
    "name": "北京示例科技有限公司", "kind": "企业客户", "short_name": "示例科技", "industry": "软件/IT",
    "company_size": "50–199 人", "province": "北京市", "city": "北京市", "district": "海淀区",
    "address": "中关村大街 1 号", "phones": "13800138000、010-88886666", "emails": "info@example.cn",
    "wechat": "example_wx", "gender": "", "birthday": "", "credit_code": "91110108MA01A2B3C4",
    "source": "官网咨询", "owner": "", "tags": "重点客户", "notes": "年底有采购计划",
    "contact.name": "张伟", "contact.title": "采购经理", "contact.phones": "13912345678",
    "contact.email": "zhangwei@example.cn", "contact.wechat": "", "contact.decision_role": "决策者",
    "customer": "北京示例科技有限公司", "customer.phone": "13800138000",
    "customer.credit_code": "91110108MA01A2B3C4", "number": "SO-2025-0001",
    "external_number": "", "ordered_on": "2025-05-01", "status": "已确认", "currency": "CNY",
    "amount": "12800.00", "product": "SKU-001", "product_name": "", "quantity": "2",
    "unit_price": "6400.00", "discount": "",
    "occurred_at": "2025-05-01 10:30", "channel": "电话", "direction": "我方发起",
    "contact": "张伟", "subject": "报价沟通", "content": "客户确认了报价，下周签合同",
    "outcome": "有意向", "next_step": "发送合同", "next_follow_up": "2025-05-08",
}


def write_blank_template(target: str, out: IO[bytes]) -> None:
    """Write the template of `target` ("customers", "orders", "communications") as xlsx."""
    fields = importable_fields(target)
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet({"customers": "客户", "orders": "订单",
                                "communications": "沟通记录"}[target])
    head = book.add_format({"bold": True, "bg_color": "#e2e8f0", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#fde68a", "border": 1})
    text = book.add_format({"num_format": "@"})
    for col, field in enumerate(fields):
        label = f"{field.label}*" if field.required else field.label
        sheet.write_string(0, col, label, required if field.required else head)
        # The whole column as text: typed digits stay digits (no 1.38E+10).
        sheet.set_column(col, col, max(12, len(label) * 2 + 2), text if field.id_like else None)
        sheet.write_string(1, col, EXAMPLES.get(field.key, ""))
    sheet.freeze_panes(1, 0)
    book.close()
