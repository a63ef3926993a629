"""The history API's rows of the authorization matrix (tests/api/test_api_authorization_matrix.py).

Statuses are for (owner, teammate, outsider, manager, analyst, admin[, anonymous]) calling
on alice's customer and the history records `seed_history` hangs off it. Read them as:
a record attached to a customer is visible exactly when its customer is (404 otherwise),
the analyst reads but may not write (403), pipelines and the product catalogue are kept by
the roles that keep the catalogue (admins and, built in, managers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.history import services
from kehu.history.models import Pipeline
from tests.api.conftest import Multipart

Row = tuple[tuple[int, ...], Callable[[Any], Any] | None]

READ_ONE = (200, 404, 404, 200, 200, 200)
CHANGE_ONE = (200, 404, 404, 200, 403, 200)
CREATE_ONE = (201, 404, 404, 201, 403, 201)
DELETE_ONE = (204, 404, 404, 204, 403, 204)
EVERYONE = (200, 200, 200, 200, 200, 200)
CATALOGUE = (403, 403, 403, 201, 403, 201)
CATALOGUE_CHANGE = (403, 403, 403, 200, 403, 200)
C = "/customers/{customer_id}"


def _product(w: Any) -> int:
    return w.history["product_id"]


HISTORY_MATRIX: dict[tuple[str, str], Row] = {
    ("GET", f"{C}/timeline"): (READ_ONE, None),
    ("GET", f"{C}/summary"): (READ_ONE, None),
    ("GET", "/communications"): (EVERYONE, None),
    ("POST", f"{C}/communications"): (CREATE_ONE, lambda w: {"subject": "矩阵回访"}),
    ("GET", "/communications/{communication_id}"): (READ_ONE, None),
    ("PATCH", "/communications/{communication_id}"): (CHANGE_ONE, lambda w: {"outcome": "已报价"}),
    ("DELETE", "/communications/{communication_id}"): (DELETE_ONE, None),
    ("POST", "/communications/{communication_id}/attachments"): (CREATE_ONE, lambda w: Multipart(
        {"file": SimpleUploadedFile("纪要.txt", "会议纪要".encode(), content_type="text/plain")})),
    ("GET", "/products"): (EVERYONE, None),
    ("POST", "/products"): ((403, 403, 403, 201, 403, 201),
                            lambda w: {"sku": "MX-001", "name": "矩阵产品", "unit_price": "9.90"}),
    ("GET", "/products/{product_id}"): (EVERYONE, None),
    ("PATCH", "/products/{product_id}"): ((403, 403, 403, 200, 403, 200), lambda w: {"name": "改名"}),
    ("GET", "/orders"): (EVERYONE, None),
    ("POST", f"{C}/orders"): (CREATE_ONE,
                              lambda w: {"lines": [{"product": _product(w), "quantity": 1}]}),
    # Bulk rows name their customer: one the caller may not write makes the batch invalid.
    ("POST", "/orders/bulk"): ((200, 422, 422, 200, 403, 200), lambda w: {"orders": [
        {"customer": w.customer.pk, "external_number": "ERP-MX-1",
         "lines": [{"product": _product(w), "quantity": 1}]}]}),
    ("GET", "/orders/{order_id}"): (READ_ONE, None),
    ("PATCH", "/orders/{order_id}"): (CHANGE_ONE, lambda w: {"notes": "加急"}),
    ("DELETE", "/orders/{order_id}"): (DELETE_ONE, None),
    ("GET", f"{C}/preference"): (READ_ONE, None),
    ("PUT", f"{C}/preference"): (CHANGE_ONE, lambda w: {"pain_points": "交期慢"}),
    ("GET", "/needs"): (EVERYONE, None),
    ("POST", f"{C}/needs"): (CREATE_ONE, lambda w: {"content": "需要发票"}),
    ("GET", "/needs/{need_id}"): (READ_ONE, None),
    ("PATCH", "/needs/{need_id}"): (CHANGE_ONE, lambda w: {"status": "met"}),
    ("DELETE", "/needs/{need_id}"): (DELETE_ONE, None),
    ("GET", "/opportunities"): (EVERYONE, None),
    ("POST", f"{C}/opportunities"): (CREATE_ONE, lambda w: {"title": "矩阵商机"}),
    ("GET", "/opportunities/{opportunity_id}"): (READ_ONE, None),
    ("PATCH", "/opportunities/{opportunity_id}"): (CHANGE_ONE, lambda w: {"amount": "500"}),
    ("DELETE", "/opportunities/{opportunity_id}"): (DELETE_ONE, None),
    ("POST", "/opportunities/{opportunity_id}/move"): (
        CHANGE_ONE, lambda w: {"stage": w.history["next_stage_id"]}),
    ("POST", "/opportunities/{opportunity_id}/close"): (
        CHANGE_ONE, lambda w: {"won": True, "reason": "签约"}),
    ("GET", "/pipelines"): (EVERYONE, None),
    ("POST", "/pipelines"): (CATALOGUE, lambda w: {"name": "矩阵流程"}),
    ("PATCH", "/pipelines/{pipeline_id}"): (CATALOGUE_CHANGE, lambda w: {"name": "新名字"}),
    ("POST", "/pipelines/{pipeline_id}/stages"): (CATALOGUE, lambda w: {"name": "矩阵阶段"}),
    ("PATCH", "/stages/{stage_id}"): (CATALOGUE_CHANGE, lambda w: {"probability": 15}),
    ("GET", "/surveys"): (EVERYONE, None),
    ("POST", f"{C}/surveys"): (CREATE_ONE, lambda w: {"kind": "csat", "score": 5}),
    ("GET", "/surveys/{survey_id}"): (READ_ONE, None),
    ("DELETE", "/surveys/{survey_id}"): (DELETE_ONE, None),
    ("GET", "/tickets"): (EVERYONE, None),
    ("POST", f"{C}/tickets"): (CREATE_ONE, lambda w: {"kind": "complaint", "subject": "发货慢"}),
    ("GET", "/tickets/{ticket_id}"): (READ_ONE, None),
    ("PATCH", "/tickets/{ticket_id}"): (CHANGE_ONE, lambda w: {"status": "resolved"}),
    ("DELETE", "/tickets/{ticket_id}"): (DELETE_ONE, None),
}


def seed_history(people: dict[str, Any], customer: Any) -> dict[str, int]:
    """One record of each kind on alice's customer; returns the path parameters."""
    owner, admin = people["owner"], people["admin"]
    product = services.product_save(actor=admin, origin="manual", data={"sku": "MX-BASE", "name": "基础款",
                                                       "unit_price": "100"})
    opportunity = services.opportunity_create(actor=owner, origin="manual", customer=customer,
                                              data={"title": "基础商机", "amount": "1000"})
    pipeline = Pipeline.objects.get(pk=opportunity.pipeline_id)
    stages = list(pipeline.stages.order_by("position", "id"))
    return {
        "communication_id": services.communication_log(actor=owner, origin="manual", customer=customer,
                                                       data={"subject": "首次拜访"}).pk,
        "product_id": product.pk,
        "order_id": services.order_create(actor=owner, origin="manual", customer=customer, data={
            "lines": [{"product": product.pk, "quantity": 2}]}).pk,
        "need_id": services.need_create(actor=owner, origin="manual", customer=customer,
                                        data={"content": "想要样品"}).pk,
        "opportunity_id": opportunity.pk,
        "next_stage_id": stages[1].pk,
        "pipeline_id": pipeline.pk,
        "stage_id": stages[0].pk,
        "survey_id": services.survey_record(actor=owner, origin="manual", customer=customer,
                                            data={"kind": "nps", "score": 9}).pk,
        "ticket_id": services.ticket_create(actor=owner, origin="manual", customer=customer,
                                            data={"kind": "inquiry", "subject": "价格"}).pk,
    }
