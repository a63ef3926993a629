"""Opportunities move across the pipeline's stages; won and lost close them."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kehu.core.errors import VersionConflict
from kehu.history import selectors, services
from kehu.history.models import Pipeline, Stage


@pytest.fixture
def pipeline(db):
    return Pipeline.objects.get(is_default=True)


def stage(pipeline, name):
    return Stage.objects.get(pipeline=pipeline, name=name)


def test_a_new_opportunity_starts_in_the_first_stage_owned_by_its_creator(
    alice, alices_customer, pipeline, catalogue
):
    deal = services.opportunity_create(actor=alice, origin="manual", customer=alices_customer, data={
        "title": "年度茶叶采购", "kind": "cross_sell", "amount": "52000",
        "products": ["TEA-LJ-250", catalogue["SET-GL-01"].pk]})
    assert (deal.pipeline, deal.stage.name, deal.owner, deal.status) == (
        pipeline, "初步接洽", alice, "open")
    assert deal.amount == Decimal("52000.00")
    assert sorted(p.sku for p in deal.products.all()) == ["SET-GL-01", "TEA-LJ-250"]


def test_moving_into_won_closes_and_moving_back_reopens(alice, alices_customer, pipeline):
    deal = services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                       data={"title": "续约"})
    deal = services.opportunity_move(actor=alice, origin="manual", opportunity=deal,
                                     stage=stage(pipeline, "赢单"),
                                     expected_version=1)
    assert (deal.status, deal.version) == ("won", 2) and deal.closed_at is not None
    deal = services.opportunity_move(actor=alice, origin="manual", opportunity=deal,
                                     stage=stage(pipeline, "商务谈判"))
    assert (deal.status, deal.closed_at) == ("open", None)
    with pytest.raises(VersionConflict):
        services.opportunity_move(actor=alice, origin="manual", opportunity=deal, stage=stage(pipeline,
                                                                                              "输单"),
                                  expected_version=2)


def test_closing_as_lost_needs_a_reason(alice, alices_customer):
    deal = services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                       data={"title": "新购"})
    with pytest.raises(ValidationError):
        services.opportunity_close(actor=alice, origin="manual", opportunity=deal, won=False, reason=" ")
    deal = services.opportunity_close(actor=alice, origin="manual", opportunity=deal, won=False,
                                      reason="价格太高")
    assert (deal.status, deal.stage.kind, deal.close_reason) == ("lost", "lost", "价格太高")


def test_a_stage_of_another_pipeline_is_refused(alice, root, alices_customer):
    other = services.pipeline_save(actor=root, origin="manual", data={"name": "续约流程"})
    foreign = services.stage_save(actor=root, origin="manual", data={"pipeline": other.pk, "name": "沟通",
                                                    "probability": 40})
    deal = services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                       data={"title": "x"})
    with pytest.raises(ValidationError):
        services.opportunity_move(actor=alice, origin="manual", opportunity=deal, stage=foreign)


def test_only_catalogue_keepers_configure_pipelines(alice, anna, mallory, root):
    """Admins and the roles that keep the catalogue (built in: managers); not reps or analysts."""
    for actor in (alice, anna):
        with pytest.raises(PermissionDenied):
            services.pipeline_save(actor=actor, origin="manual", data={"name": "我的流程"})
    assert services.pipeline_save(actor=mallory, origin="manual", data={"name": "经理的流程"})
    pipeline = services.pipeline_save(actor=root, origin="manual", data={"name": "大客户流程",
                                                                         "is_default": True})
    assert list(Pipeline.objects.filter(is_default=True)) == [pipeline]
    with pytest.raises(ValidationError) as error:
        services.stage_save(actor=root, origin="manual", data={"pipeline": pipeline.pk, "name": "x",
                                              "probability": 120})
    assert "probability" in error.value.message_dict


def test_the_board_shows_each_stage_with_what_the_viewer_may_see(
    alice, bob, charlie, mallory, alices_customer, make_customer, pipeline
):
    services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                data={"title": "A", "amount": 100})
    bobs = make_customer(bob, name="无锡机械制造有限公司")
    services.opportunity_create(actor=bob, origin="manual", customer=bobs, data={"title": "B", "amount": 50})

    def first_column(viewer):
        column = selectors.opportunity_board(viewer=viewer, pipeline=pipeline)[0]
        return sorted(o.title for o in column.opportunities), column.count, column.amount

    assert first_column(alice) == (["A"], 1, Decimal("100"))
    assert first_column(mallory) == (["A", "B"], 2, Decimal("150"))
    assert first_column(charlie) == ([], 0, 0)


def test_an_outsider_cannot_touch_the_opportunity(alice, charlie, anna, alices_customer):
    deal = services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                       data={"title": "x"})
    with pytest.raises(Http404):
        services.opportunity_update(actor=charlie, origin="manual", opportunity=deal, data={"title": "y"})
    with pytest.raises(PermissionDenied):
        services.opportunity_delete(actor=anna, origin="manual", opportunity=deal)
