"""What each row of an order sheet (交易记录) would do.

One row is one order line; rows sharing an order number are the lines of one order (a
batch never splits a run of them, see `importing._batches`). An order is all or nothing:
a bad line refuses every row of its order. Its values go through the history's own
cleaners (`clean_order_header`, `clean_order_lines`: amounts, widths, the total), so an
imported order is exactly what the order form would have saved.

A line names its product by SKU (产品编号) or exact name (产品名称); it gives a quantity
(1 when left out) and any of unit price, discount and line amount: a missing unit price
is the catalogue's, or the amount divided by the quantity; a missing discount is what
makes quantity × price − discount equal the amount. An order number already in Kehu is
in already when it is on the same customer (unchanged — a re-import changes nothing) and
refused otherwise, without saying whose it is (`history.orders.number_taken`).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.core.cleaning import clean_decimal
from kehu.history.cleaning import WIDE, clean_money, clean_order_header, clean_order_lines
from kehu.history.imports import orders_by_number, products_for_refs
from kehu.history.orders import number_taken
from kehu.transfer.mapping import translate_choice
from kehu.transfer.planning import Problem
from kehu.transfer.plans import HistoryPlan, HistoryPlanner, NewRecord, PendingRow

HEADER = ("number", "external_number", "ordered_on", "status", "currency", "notes")
LINE = ("quantity", "unit_price", "discount", "amount")
CENT = Decimal("0.01")


class OrderPlanner(HistoryPlanner):

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Orders this run wrote in earlier batches: number -> first row (a resumed run
        # reads them back from its ledger).
        self.imported: dict[str, int] = {}

    def clean(self, row: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
        values = row.values
        raw = {k: translate_choice(k, values[k]) for k in HEADER if k in values}
        header = self.run(errors, lambda: clean_order_header(raw, partial=False)) or {}
        if not header.get("number"):
            errors.setdefault("number", []).append(_("必填"))
        line: dict[str, Any] = {"product": str(values.get("product") or values.get(
            "product_name") or "").strip()}
        if not line["product"]:
            errors.setdefault("product", []).append(_("必填：产品编号或产品名称"))
        for key in LINE:
            if values.get(key) not in (None, ""):
                line[key] = self.run(errors, lambda k=key: clean_money(values[k]) if k != "quantity"
                                     else values[k], key)
        return {"header": header, "line": line}

    def decide(self, batch: list[tuple[PendingRow, int, str]], plan: HistoryPlan) -> None:
        groups: dict[str, list[tuple[PendingRow, int, str]]] = {}
        for entry in batch:
            groups.setdefault(entry[0].data["header"]["number"], []).append(entry)
        taken = orders_by_number([n for item, _c, _n in batch for n in (
            item.data["header"]["number"], item.data["header"].get("external_number")) if n])
        products = products_for_refs(item.data["line"]["product"] for item, _c, _n in batch)
        for number, rows in groups.items():
            self._order(number, rows, taken, products, plan)

    def _order(self, number: str, rows: list[tuple[PendingRow, int, str]], taken: dict,
               products: dict, plan: HistoryPlan) -> None:
        first, customer_id, name = rows[0]
        header = first.data["header"]
        earlier = self.imported.get(number) or (self.seen or {}).get(number)
        if earlier:
            return self._refuse(rows, plan, "number", _(
                "订单号“%(number)s”已由本文件第 %(row)d 行导入：同一订单的各行请放在一起")
                % {"number": number, "row": earlier})
        if number in taken:
            if taken[number][1] == customer_id:
                plan.unchanged.extend(item.row.number for item, _c, _n in rows)
                return None
            return self._refuse(rows, plan, "number", number_taken(number))
        external = header.get("external_number")
        if external and external in taken:
            return self._refuse(rows, plan, "external_number", number_taken(external))
        problems = self._mismatches(rows)
        lines = [self._line(item, products, problems) for item, _c, _n in rows]
        if not problems:
            try:
                clean_order_lines(lines, {p.pk: p for ps in products.values() for p in ps})
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    index, _sep, field = key.removeprefix("lines.").partition(".")
                    row = rows[int(index)][0].row if index.isdigit() else first.row
                    problems.setdefault(row.number, []).append(
                        Problem(self.shape.header_of(field or "amount"), "；".join(messages)))
        if problems:
            return self._refuse_order(rows, plan, problems)
        data = {**header, "lines": lines}
        plan.creates.append(NewRecord([item.row.number for item, _c, _n in rows], customer_id,
                                      name, data, number))
        if self.seen is not None:
            self.seen[number] = first.row.number
        return None

    def _mismatches(self, rows: list[tuple[PendingRow, int, str]]) -> dict[int, list[Problem]]:
        """Later lines of an order must agree with its first on the customer and header."""
        first, customer_id, _name = rows[0]
        problems: dict[int, list[Problem]] = {}
        for item, other, _n in rows[1:]:
            if other != customer_id:
                problems.setdefault(item.row.number, []).append(Problem(
                    self.customers.column(), _("与第 %(row)d 行同一订单号，但客户不同")
                    % {"row": first.row.number}))
            for key, value in item.data["header"].items():
                if key in item.row.values and value != first.data["header"].get(key):
                    problems.setdefault(item.row.number, []).append(Problem(
                        self.shape.header_of(key), _("与第 %(row)d 行同一订单号，但这一项不同")
                        % {"row": first.row.number}))
        return problems

    def _line(self, item: PendingRow, products: dict, problems: dict[int, list[Problem]]) -> dict:
        line = dict(item.data["line"])
        ref = line.pop("product")
        found = products.get(ref, [])
        column = self.shape.header_of("product" if "product" in item.row.values else "product_name")
        if len(found) != 1:
            problems.setdefault(item.row.number, []).append(Problem(column, _(
                "没有这个产品：%(ref)s（请先在产品目录中添加）") % {"ref": ref} if not found else _(
                "有 %(count)d 个产品叫“%(ref)s”，请填写产品编号") % {"count": len(found), "ref": ref}))
            return {"product": None, "quantity": line.get("quantity", 1)}
        product = found[0]
        line.setdefault("quantity", 1)
        amount = line.pop("amount", None)
        if amount is not None:
            self._fit_amount(line, amount, product, item, problems)
        return {"product": product.pk, **line}

    def _fit_amount(self, line: dict, amount: Decimal, product: Any, item: PendingRow,
                    problems: dict[int, list[Problem]]) -> None:
        """Price and discount that make the line's amount the sheet's amount."""
        try:
            quantity = clean_decimal(line["quantity"])
        except ValidationError:
            return  # the quantity's own error is reported by clean_order_lines
        if quantity <= 0:
            return
        if "unit_price" not in line:
            line["unit_price"] = (amount / quantity).quantize(CENT, rounding=ROUND_CEILING) \
                if "discount" not in line else product.unit_price
        gross = WIDE.multiply(quantity, line["unit_price"])
        discount = WIDE.subtract(gross, amount).quantize(CENT)
        if "discount" in line and line["discount"] != discount:
            problems.setdefault(item.row.number, []).append(Problem(
                self.shape.header_of("amount"), _("金额 %(amount)s 不等于 数量×单价−折扣（%(want)s）")
                % {"amount": amount, "want": WIDE.subtract(gross, line["discount"]).quantize(CENT)}))
        elif discount < 0:
            problems.setdefault(item.row.number, []).append(Problem(
                self.shape.header_of("amount"), _("金额 %(amount)s 大于 数量×单价（%(gross)s）")
                % {"amount": amount, "gross": gross.quantize(CENT)}))
        else:
            line["discount"] = discount

    def _refuse(self, rows: list[tuple[PendingRow, int, str]], plan: HistoryPlan, key: str,
                reason: str) -> None:
        for item, _c, _n in rows:
            plan.problems.append((item.row, [Problem(self.shape.header_of(key), reason)]))

    def _refuse_order(self, rows: list[tuple[PendingRow, int, str]], plan: HistoryPlan,
                      problems: dict[int, list[Problem]]) -> None:
        """An order is all or nothing: its good lines are refused with the bad lines' rows."""
        bad = sorted(problems)
        for item, _c, _n in rows:
            found = problems.get(item.row.number) or [Problem("", _(
                "同一订单的第 %(rows)s 行有错误，整单未导入") % {"rows": "、".join(map(str, bad))})]
            plan.problems.append((item.row, found))
