"""Pipelines, stages and opportunities (商机).

An opportunity's status follows its stage: a won or lost stage closes it (and
stamps closed_at), moving back to an open stage reopens it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.selectors import owner_candidate
from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.core.records import record_create, record_delete, record_update
from kehu.customers.scoping import CHANGE, customer_for
from kehu.history import cleaning, selectors
from kehu.history.choices import OpportunityStatus, StageKind
from kehu.history.models import Opportunity, Pipeline, Stage
from kehu.history.orders import can_manage_catalogue, products_by_ref

if TYPE_CHECKING:
    from kehu.customers.models import Customer

CATALOGUE_ONLY = gettext_lazy("只有管理员和可维护产品目录与销售流程的角色可以配置销售流程")


def require_catalogue(actor: User | None) -> None:
    """Pipelines and stages: admins and the roles that keep the catalogue (维护产品目录和销售流程)."""
    if not can_manage_catalogue(actor):  # the products' own rule (history/orders.py)
        raise PermissionDenied(str(CATALOGUE_ONLY))


# --- pipelines and stages (catalogue keepers) ------------------------------------------------


@transaction.atomic
def pipeline_save(
    *, actor: User, data: dict[str, Any], origin: str, pipeline: Pipeline | None = None
) -> Pipeline:
    """Create or rename a pipeline; making one the default unsets the others."""
    require_catalogue(actor)
    values = cleaning.clean_pipeline(data, partial=pipeline is not None)
    name = values.get("name")
    if name and Pipeline.objects.filter(name=name).exclude(pk=getattr(pipeline, "pk", None)).exists():
        raise ValidationError({"name": [_("已有同名的销售流程")]})
    if pipeline is None:
        pipeline = record_create(actor=actor, instance=Pipeline(**values), origin=origin,
                                 summary={"name": values.get("name")})
    else:
        pipeline = record_update(actor=actor, origin=origin, values=values,
                                 instance=Pipeline.objects.select_for_update().get(pk=pipeline.pk))
    if pipeline.is_default:
        Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
    return pipeline


@transaction.atomic
def stage_save(
    *, actor: User, data: dict[str, Any], origin: str, stage: Stage | None = None
) -> Stage:
    """Create or change a stage (name, position, win probability, open/won/lost).

    A new stage without a position goes after the pipeline's last open stage (before won
    and lost), where a sales step belongs; a won or lost one goes to the end.
    """
    require_catalogue(actor)
    values = cleaning.clean_stage(data, partial=stage is not None)
    if "pipeline" in values:
        pipeline = Pipeline.objects.filter(pk=values.pop("pipeline")).first()
        if pipeline is None:
            raise ValidationError({"pipeline": [_("销售流程不存在")]})
        values["pipeline_id"] = pipeline.pk
    current = Stage.objects.select_for_update().get(pk=stage.pk) if stage else None
    pipeline_id = values.get("pipeline_id", getattr(current, "pipeline_id", None))
    name = values.get("name", getattr(current, "name", None))
    if Stage.objects.filter(pipeline_id=pipeline_id, name=name).exclude(pk=getattr(current, "pk", None)) \
            .exists():
        raise ValidationError({"name": [_("该流程中已有同名阶段")]})
    if current is None:
        if "position" not in values:
            values["position"] = _make_room(actor, origin, pipeline_id, values.get("kind", StageKind.OPEN))
        return record_create(actor=actor, instance=Stage(**values), origin=origin,
                             summary={"name": name})
    if values.get("kind", current.kind) != current.kind:
        _check_kind_change(current)
    return record_update(actor=actor, instance=current, values=values, origin=origin)


@transaction.atomic
def stage_move(*, actor: User, stage: Stage, direction: str, origin: str) -> Stage:
    """Move a stage one place up or down among its pipeline's stages (the kanban's column order).

    Positions are renumbered 0, 1, 2… on the way, so stages that shared a position get one
    each; every stage whose position changes leaves a change-log row.
    """
    require_catalogue(actor)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": [_("只能上移（up）或下移（down）")]})
    stages = _stages_locked(stage.pipeline_id)
    index = next((i for i, s in enumerate(stages) if s.pk == stage.pk), None)
    if index is None:
        raise Http404
    moved, other = stages[index], index - 1 if direction == "up" else index + 1
    if 0 <= other < len(stages):  # the first stage going up (the last going down) stays
        stages[index], stages[other] = stages[other], stages[index]
    _renumber(actor, origin, stages)
    return moved


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage, origin: str) -> None:
    """Delete a stage no opportunity stands in; a pipeline keeps at least one open stage."""
    require_catalogue(actor)
    stages = _stages_locked(stage.pipeline_id)
    current = next((s for s in stages if s.pk == stage.pk), None)
    if current is None:
        raise Http404
    held = current.opportunities.count()
    if held:
        raise ValidationError({"stage": [
            _("阶段“%(name)s”下还有 %(count)d 个商机，不能删除。请先把它们移到其他阶段。")
            % {"name": current.name, "count": held}]})
    if current.kind == StageKind.OPEN and sum(s.kind == StageKind.OPEN for s in stages) == 1:
        raise ValidationError({"stage": [_("每个销售流程至少要保留一个进行中的阶段")]})
    record_delete(actor=actor, instance=current, origin=origin)
    _renumber(actor, origin, [s for s in stages if s.pk != current.pk])


@transaction.atomic
def pipeline_delete(*, actor: User, pipeline: Pipeline, origin: str) -> None:
    """Delete a pipeline (and its stages) that holds no opportunity and is not the default."""
    require_catalogue(actor)
    current = Pipeline.objects.select_for_update().filter(pk=pipeline.pk).first()
    if current is None:
        raise Http404
    if current.is_default:
        raise ValidationError({"pipeline": [_("默认流程不能删除；请先把另一个流程设为默认")]})
    held = current.opportunities.count()
    if held:
        raise ValidationError({"pipeline": [
            _("销售流程“%(name)s”下还有 %(count)d 个商机，不能删除")
            % {"name": current.name, "count": held}]})
    record_delete(actor=actor, instance=current, origin=origin)


def _stages_locked(pipeline_id: int) -> list[Stage]:
    return list(Stage.objects.select_for_update().filter(pipeline_id=pipeline_id)
                .order_by("position", "id"))


def _renumber(actor: User, origin: str, stages: list[Stage], start: int = 0) -> None:
    for position, stage in enumerate(stages, start=start):
        if stage.position != position:
            record_update(actor=actor, instance=stage, values={"position": position},
                          origin=origin, action="reorder")


def _make_room(actor: User, origin: str, pipeline_id: int, kind: str) -> int:
    """The position a new stage takes: after the last open stage (or at the end for won and
    lost); the stages after it move down one."""
    stages = _stages_locked(pipeline_id)
    opens = [i for i, s in enumerate(stages) if s.kind == StageKind.OPEN]
    at = (opens[-1] + 1 if opens else 0) if kind == StageKind.OPEN else len(stages)
    _renumber(actor, origin, stages[:at])
    _renumber(actor, origin, stages[at:], start=at + 1)
    return at


def _check_kind_change(current: Stage) -> None:
    """Opportunities take their status from their stage's kind: a stage holding some keeps its
    kind, and the pipeline keeps an open stage for new ones."""
    if current.opportunities.exists():
        raise ValidationError({"kind": [_("阶段下还有商机，不能改变它的类型")]})
    if current.kind == StageKind.OPEN and not Stage.objects.filter(
            pipeline_id=current.pipeline_id, kind=StageKind.OPEN).exclude(pk=current.pk).exists():
        raise ValidationError({"kind": [_("每个销售流程至少要保留一个进行中的阶段")]})


def default_pipeline() -> Pipeline:
    pipeline = selectors.default_pipeline()
    if pipeline is None:
        raise ValidationError({"pipeline": [_("还没有销售流程，请管理员先创建")]})
    return pipeline


def first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN).order_by("position", "id").first()
    if stage is None:
        raise ValidationError({"stage": [_("该流程没有进行中的阶段")]})
    return stage


# --- opportunities ----------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *, actor: User, customer: Customer | int, data: dict[str, Any], origin: str
) -> Opportunity:
    """Defaults: the default pipeline, its first open stage, the actor as owner."""
    customer = customer_for(actor, customer, CHANGE, lock=True)
    values = cleaning.clean_opportunity(data, partial=False)
    products = _products(values.pop("products", None))
    pipeline = _pipeline(values.pop("pipeline", None))
    stage = _stage_of(pipeline, values.pop("stage", None)) if "stage" in values else None
    opportunity = Opportunity(customer=customer, pipeline=pipeline,
                              stage=stage or first_open_stage(pipeline),
                              owner_id=_owner_id(actor, values.pop("owner", None)), **values)
    _follow_stage(opportunity)
    record_create(actor=actor, instance=opportunity, origin=origin,
                  summary={"title": opportunity.title, "amount": str(opportunity.amount)})
    if products:
        opportunity.products.set(products)
    return opportunity


@transaction.atomic
def opportunity_update(
    *, actor: User, opportunity: Opportunity, data: dict[str, Any], origin: str,
    expected_version: int | None = None,
) -> Opportunity:
    values = cleaning.clean_opportunity(data, partial=True)
    if values.get("title", "x") == "":
        raise ValidationError({"title": [_("必填")]})
    products = _products(values.pop("products", None)) if "products" in values else None

    def clean(current: Opportunity) -> dict[str, Any]:
        if "pipeline" in values:
            pipeline = _pipeline(values.pop("pipeline"))
            if pipeline.pk != current.pipeline_id:
                values["pipeline_id"] = pipeline.pk
                values.setdefault("stage", first_open_stage(pipeline).pk)
        if "stage" in values:
            pipeline_id = values.get("pipeline_id", current.pipeline_id)
            values["stage_id"] = _stage_of(Pipeline(pk=pipeline_id), values.pop("stage")).pk
        if "owner" in values:
            values["owner_id"] = _owner_id(actor, values.pop("owner"))
        return {**values, **_status_for(values.get("stage_id"), current)}

    current = Opportunity.objects.get_for(actor, opportunity, CHANGE, lock=True)
    return record_update(actor=actor, instance=current, values=clean, origin=origin,
                         expected_version=expected_version,
                         after_save=lambda current: _set_products(current, products))


@transaction.atomic
def opportunity_move(
    *, actor: User, opportunity: Opportunity, stage: Stage | int, origin: str,
    expected_version: int | None = None,
) -> Opportunity:
    """Move to another stage of the same pipeline (the kanban's drag and drop)."""
    stage_id = stage.pk if isinstance(stage, Stage) else int(stage)

    def clean(current: Opportunity) -> dict[str, Any]:
        target = _stage_of(Pipeline(pk=current.pipeline_id), stage_id)
        return {"stage_id": target.pk, **_status_for(target.pk, current)}

    current = Opportunity.objects.get_for(actor, opportunity, CHANGE, lock=True)
    return record_update(actor=actor, instance=current, values=clean, action="move",
                         origin=origin, expected_version=expected_version)


@transaction.atomic
def opportunity_close(
    *, actor: User, opportunity: Opportunity, won: bool, reason: str, origin: str,
    expected_version: int | None = None,
) -> Opportunity:
    """Mark won or lost with a reason: moves it to the pipeline's won (or lost) stage."""
    reason = (reason or "").strip()[:500]
    if not won and not reason:
        raise ValidationError({"reason": [_("请填写输单原因")]})
    kind = StageKind.WON if won else StageKind.LOST

    def clean(current: Opportunity) -> dict[str, Any]:
        target = (Stage.objects.filter(pipeline_id=current.pipeline_id, kind=kind)
                  .order_by("position", "id").first())
        if target is None:
            raise ValidationError({"stage": [_("该流程没有赢单/输单阶段")]})
        return {"stage_id": target.pk, **_status_for(target.pk, current), "close_reason": reason}

    current = Opportunity.objects.get_for(actor, opportunity, CHANGE, lock=True)
    return record_update(actor=actor, instance=current, values=clean, action="close",
                         origin=origin, expected_version=expected_version)


@transaction.atomic
def opportunity_delete(
    *, actor: User, opportunity: Opportunity, origin: str, expected_version: int | None = None
) -> None:
    current = Opportunity.objects.get_for(actor, opportunity, CHANGE, lock=True)
    record_delete(actor=actor, instance=current, origin=origin, expected_version=expected_version)


STATUS_BY_KIND = {StageKind.OPEN: OpportunityStatus.OPEN, StageKind.WON: OpportunityStatus.WON,
                  StageKind.LOST: OpportunityStatus.LOST}


def _status_for(stage_id: int | None, current: Opportunity) -> dict[str, Any]:
    """status, closed_at (and a cleared reason on reopening) that follow the new stage."""
    if stage_id is None or stage_id == current.stage_id:
        return {}
    kind = Stage.objects.values_list("kind", flat=True).get(pk=stage_id)
    status = STATUS_BY_KIND[kind]
    if status == current.status:
        return {}
    if status == OpportunityStatus.OPEN:
        return {"status": status, "closed_at": None, "close_reason": ""}
    return {"status": status, "closed_at": timezone.now()}


def _follow_stage(opportunity: Opportunity) -> None:
    opportunity.status = STATUS_BY_KIND[opportunity.stage.kind]
    if opportunity.status != OpportunityStatus.OPEN:
        opportunity.closed_at = timezone.now()


def _pipeline(pipeline_id: int | None) -> Pipeline:
    if pipeline_id is None:
        return default_pipeline()
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if pipeline is None:
        raise ValidationError({"pipeline": [_("销售流程不存在")]})
    return pipeline


def _stage_of(pipeline: Pipeline, stage_id: int | None) -> Stage:
    stage = Stage.objects.filter(pk=stage_id, pipeline_id=pipeline.pk).first()
    if stage is None:
        raise ValidationError({"stage": [_("该阶段不属于这个销售流程")]})
    return stage


def _owner_id(actor: User, owner_id: int | None) -> int:
    """The owner defaults to the actor; anyone else must be within the actor's scope."""
    if owner_id is None or owner_id == actor.pk:
        return actor.pk
    owner = owner_candidate(actor, owner_id)
    if owner is None:
        raise ValidationError({"owner": [_("只能指定你管辖范围内的在职同事为负责人")]})
    return owner.pk


def _products(refs: list[Any] | None) -> list:
    """Products by id or SKU, in one query; unknown references are an error."""
    if not refs:
        return []
    found = products_by_ref(list(refs))
    resolved, missing = {}, []
    for ref in refs:
        product = found.get(ref) or found.get(_as_int(ref))
        if product is None:
            missing.append(str(ref))
        else:
            resolved[product.pk] = product
    if missing:
        raise ValidationError({"products": [_("没有这些产品：%(refs)s") % {"refs": "、".join(missing)}]})
    return list(resolved.values())


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _set_products(opportunity: Opportunity, products: list | None) -> dict[str, Any]:
    if products is None:
        return {}
    before = sorted(opportunity.products.values_list("pk", flat=True))
    opportunity.products.set(products)
    after = sorted(p.pk for p in products)
    return {"products": [before, after]} if before != after else {}


def opportunities_hand_over(sender: Any, ids: list[int], from_user: User, to_user: User,
                            actor: User, origin: str, **kwargs: Any) -> dict[str, int]:
    """A handover's receiver (customers.signals.handed_over, in its transaction): the open
    deals the leaver owns on those customers go to the receiver, each through the one write
    path (a change-log row each). Won and lost deals keep who won or lost them."""
    moved = 0
    for start in range(0, len(ids), 500):
        for deal in Opportunity.objects.select_for_update().filter(
                customer_id__in=ids[start:start + 500], owner=from_user,
                status=OpportunityStatus.OPEN).order_by("pk"):
            record_update(actor=actor, instance=deal, values={"owner": to_user}, origin=origin,
                          action="handover")
            moved += 1
    return {"opportunities": moved}
