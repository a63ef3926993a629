"""Pipelines and their stages in the settings area (设置), as an admin configures them.

root (the admin) adds a stage, moves it, gives it a win probability and deletes it; the
board follows. alice (a sales rep) may not open any of it.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.models import ChangeLog
from kehu.history import opportunities, services
from kehu.history.models import Pipeline, Stage

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def standard() -> Pipeline:
    return Pipeline.objects.get(name="标准销售流程")


def stage_names(pipeline: Pipeline) -> list[str]:
    return list(pipeline.stages.order_by("position", "id").values_list("name", flat=True))


def board_columns(client: Client, pipeline: Pipeline) -> list[str]:
    """The column titles of the kanban, left to right, as the page shows them."""
    html = client.get(reverse("history:board_pipeline", args=[pipeline.pk])).content.decode()
    names = stage_names(pipeline)
    return sorted(names, key=lambda name: html.index(f"<h2>{name} <small>"))


def add_stage(client: Client, pipeline: Pipeline, **fields: str):
    data = {f"stage-new-{key}": value for key, value in fields.items()}
    return client.post(reverse("history:stage_create", args=[pipeline.pk]), data)


def test_an_admin_adds_a_stage_moves_it_up_and_the_board_follows(root):
    admin = browser_of(root)
    added = add_stage(admin, standard(), name="方案评估", probability="40", kind="open")
    stage = Stage.objects.get(name="方案评估")
    assert added.status_code == 302 and added["Location"].endswith(f"#stage-{stage.pk}")
    # A new open stage goes after the last open one, before 赢单 and 输单.
    assert stage_names(standard()) == ["初步接洽", "需求确认", "方案报价", "商务谈判", "方案评估",
                                       "赢单", "输单"]
    assert stage.probability == 40

    moved = admin.post(reverse("history:stage_move", args=[stage.pk]), {"direction": "up"})
    page = admin.get(moved["Location"]).content.decode()
    assert stage_names(standard()) == ["初步接洽", "需求确认", "方案报价", "方案评估", "商务谈判",
                                       "赢单", "输单"]
    assert board_columns(admin, standard()) == stage_names(standard())
    assert 'aria-label="上移 方案评估" autofocus' in page  # the keyboard can go on
    # The add moved 赢单 and 输单 down one, the move swapped two: a change-log row each.
    assert ChangeLog.objects.filter(model="history.stage", action="reorder").count() == 4


def test_a_probability_out_of_range_comes_back_naming_its_field(root):
    admin = browser_of(root)
    stage = Stage.objects.get(name="方案报价")
    response = admin.post(reverse("history:stage_edit", args=[stage.pk]), {
        f"stage-{stage.pk}-name": "方案报价", f"stage-{stage.pk}-probability": "120",
        f"stage-{stage.pk}-kind": "open"})
    assert response.status_code == 400
    assert "赢率 %：必须在 0 到 100 之间" in response.content.decode()
    stage.refresh_from_db()
    assert stage.probability == 50


def test_a_new_stage_without_a_name_and_with_a_taken_one_are_refused_by_field(root):
    admin = browser_of(root)
    nameless = add_stage(admin, standard(), name="", probability="30", kind="open")
    assert nameless.status_code == 400 and "阶段名称：必填" in nameless.content.decode()
    taken = add_stage(admin, standard(), name="赢单", kind="won")
    assert taken.status_code == 400 and "阶段名称：该流程中已有同名阶段" in taken.content.decode()
    assert len(stage_names(standard())) == 6


def test_an_admin_renames_a_stage_and_changes_its_probability(root):
    admin = browser_of(root)
    stage = Stage.objects.get(name="需求确认")
    admin.post(reverse("history:stage_edit", args=[stage.pk]), {
        f"stage-{stage.pk}-name": "需求调研", f"stage-{stage.pk}-probability": "30",
        f"stage-{stage.pk}-kind": "open"})
    stage.refresh_from_db()
    assert (stage.name, stage.probability) == ("需求调研", 30)
    assert "需求调研 <small>30%</small>" in admin.get(reverse("history:board")).content.decode()


def test_a_stage_holding_a_deal_is_not_deleted_and_the_page_says_why(root, alice, alices_customer):
    deal = services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                       data={"title": "年度采购"})
    admin = browser_of(root)
    response = admin.post(reverse("history:stage_delete", args=[deal.stage_id]), follow=True)
    assert "阶段“初步接洽”下还有 1 个商机，不能删除。请先把它们移到其他阶段。" in response.content.decode()
    assert Stage.objects.filter(pk=deal.stage_id).exists()


def test_an_empty_stage_is_deleted_and_the_rest_close_ranks(root):
    admin = browser_of(root)
    admin.post(reverse("history:stage_delete", args=[Stage.objects.get(name="需求确认").pk]))
    assert stage_names(standard()) == ["初步接洽", "方案报价", "商务谈判", "赢单", "输单"]
    assert list(standard().stages.order_by("position").values_list("position", flat=True)) == [
        0, 1, 2, 3, 4]


def test_the_last_open_stage_stays(root):
    admin = browser_of(root)
    for name in ("需求确认", "方案报价", "商务谈判"):
        admin.post(reverse("history:stage_delete", args=[Stage.objects.get(name=name).pk]))
    last = Stage.objects.get(name="初步接洽")
    response = admin.post(reverse("history:stage_delete", args=[last.pk]), follow=True)
    assert "每个销售流程至少要保留一个进行中的阶段" in response.content.decode()
    changed = admin.post(reverse("history:stage_edit", args=[last.pk]), {
        f"stage-{last.pk}-name": "初步接洽", f"stage-{last.pk}-probability": "10",
        f"stage-{last.pk}-kind": "won"})
    assert "类型：每个销售流程至少要保留一个进行中的阶段" in changed.content.decode()


def test_an_admin_creates_a_pipeline_makes_it_the_default_and_deletes_the_old_one(root):
    admin = browser_of(root)
    created = admin.post(reverse("history:pipelines"), {"name": "大客户流程"})
    big = Pipeline.objects.get(name="大客户流程")
    assert created["Location"] == reverse("history:pipeline", args=[big.pk])
    add_stage(admin, big, name="高层拜访", probability="20", kind="open")
    admin.post(reverse("history:pipeline_default", args=[big.pk]))
    assert list(Pipeline.objects.filter(is_default=True)) == [big]
    admin.post(reverse("history:pipeline", args=[big.pk]), {"name": "重点客户流程"})
    big.refresh_from_db()
    assert big.name == "重点客户流程"
    listing = admin.get(reverse("history:pipelines")).content.decode()
    assert "重点客户流程" in listing and "高层拜访 <span class=\"muted\">20%</span>" in listing

    admin.post(reverse("history:pipeline_delete", args=[standard().pk]))
    assert list(Pipeline.objects.values_list("name", flat=True)) == ["重点客户流程"]


def test_the_default_pipeline_and_a_taken_name_are_refused(root):
    admin = browser_of(root)
    refused = admin.post(reverse("history:pipeline_delete", args=[standard().pk]), follow=True)
    assert "默认流程不能删除；请先把另一个流程设为默认" in refused.content.decode()
    taken = admin.post(reverse("history:pipelines"), {"name": "标准销售流程"})
    assert taken.status_code == 400 and "已有同名的销售流程" in taken.content.decode()


def test_a_sales_rep_gets_403_on_every_pipeline_screen(alice):
    rep = browser_of(alice)
    stage = Stage.objects.get(name="方案报价")
    assert rep.get(reverse("history:pipelines")).status_code == 403
    assert rep.get(reverse("history:pipeline", args=[standard().pk])).status_code == 403
    assert add_stage(rep, standard(), name="偷偷加的").status_code == 403
    assert rep.post(reverse("history:stage_move", args=[stage.pk]),
                    {"direction": "up"}).status_code == 403
    assert rep.post(reverse("history:stage_delete", args=[stage.pk])).status_code == 403
    assert stage_names(standard())[2] == "方案报价" and len(stage_names(standard())) == 6


def test_the_services_refuse_a_rep_and_log_the_admins_changes_with_their_origin(root, alice):
    stage = Stage.objects.get(name="方案报价")
    for write in (lambda actor: opportunities.stage_move(actor=actor, stage=stage, direction="up",
                                                    origin="api"),
                  lambda actor: opportunities.stage_delete(actor=actor, stage=stage, origin="api"),
                  lambda actor: opportunities.pipeline_delete(actor=actor, pipeline=standard(),
                                                         origin="api")):
        with pytest.raises(PermissionDenied):
            write(alice)
    opportunities.stage_move(actor=root, stage=stage, direction="up",
                        origin="api")
    opportunities.stage_delete(actor=root, stage=stage, origin="api")
    logged = ChangeLog.objects.filter(model="history.stage").values_list("action", "origin",
                                                                         "actor_id")
    assert ("delete", "api", root.pk) in logged and ("reorder", "api", root.pk) in logged
    with pytest.raises(ValidationError) as refused:
        opportunities.stage_move(actor=root, stage=Stage.objects.get(name="赢单"), direction="left",
                            origin="api")
    assert "direction" in refused.value.error_dict
