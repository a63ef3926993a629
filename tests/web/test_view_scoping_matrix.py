"""Every URL of the site, for every kind of person: the status each one gets.

The meta-test walks the project's URL resolver and fails for any route that is
missing from TABLE below, so a new view cannot ship without someone deciding
(and testing) who may open it. Out of scope is 404 (the same as missing), a
read-only person trying to write is 403, anonymous goes to the login page.
The API has its own matrix (tests/api); Django's admin holds no customer data
(tests/customers/test_every_customer_bound_model_is_scoped.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kehu.customers import services
from kehu.customers.models import Contact, Customer, CustomField
from kehu.history import services as history_services
from tests.people import alices_customer_create, kept_for_the_module, people_create

pytestmark = pytest.mark.django_db

PEOPLE = ("alice", "bob", "charlie", "mallory", "anna", "root", "anonymous")
SKIPPED_PREFIXES = ("api/", "static/", "admin/")


def expect(alice, bob, charlie, mallory, anna, root, anonymous=302) -> dict[str, int]:
    return dict(zip(PEOPLE, (alice, bob, charlie, mallory, anna, root, anonymous), strict=True))


# alice owns the customer, bob is her teammate (own-scope rep), charlie an outsider,
# mallory their manager, anna a read-only analyst, root the admin.
EVERYONE = expect(200, 200, 200, 200, 200, 200)
READ_CUSTOMER = expect(200, 404, 404, 200, 200, 200)
WRITE_PAGE = expect(200, 404, 404, 200, 403, 200)
WRITE_ACTION = expect(302, 404, 404, 302, 403, 302)
WRITERS = expect(200, 200, 200, 200, 403, 200)
ADMIN_PAGE = expect(403, 403, 403, 403, 403, 200)
ADMIN_ACTION = expect(403, 403, 403, 403, 403, 302)
CATALOGUE_PAGE = expect(403, 403, 403, 200, 403, 200)  # admins and managers: the catalogue
CATALOGUE_ACTION = expect(403, 403, 403, 302, 403, 302)
EVERYONE_ACTION = expect(302, 302, 302, 302, 302, 302)


@dataclass
class World:
    """What the URLs point at: alice's customer, its contact, a deleted one, a custom field,
    and a deal on her customer in the default pipeline."""

    users: dict[str, Any]
    customer: Customer
    contact: Contact
    deleted: Customer
    field: CustomField
    opportunity: Any = None
    next_stage: Any = None
    job: Any = None
    job_file: Any = None
    schedule: Any = None
    notification: Any = None
    failed_job: Any = None
    run: Any = None
    done_run: Any = None
    merge_pair: Any = None  # two of alice's customers to merge
    merge: Any = None  # an earlier merge of two others of hers
    pair: Any = None  # a probable duplicate pair of two of her customers
    segment: Any = None  # alice's private segment
    team_segment: Any = None  # alice's segment for her department (华东区)


@dataclass(frozen=True)
class Case:
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    data: Callable[[World], dict] = field(default=lambda w: {})


def u(name: str, arg: Callable[[World], Any] | None = None) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[arg(w)] if arg else [])


CUSTOMER = lambda w: w.customer.pk  # noqa: E731


def _tier_dimension() -> int:
    from kehu.classification.models import Dimension

    return Dimension.objects.get(key="value_tier").pk


def _tier_value(key: str = "a") -> int:
    from kehu.classification.models import DimensionValue

    return DimensionValue.objects.get(dimension__key="value_tier", key=key).pk


def _tier_rule() -> int:
    from kehu.classification.models import Rule

    return Rule.objects.get(builtin_key="tier_b").pk


TIER = lambda w: _tier_dimension()  # noqa: E731
VALUE = lambda w: _tier_value()  # noqa: E731
VIP = lambda w: _tier_value("vip")  # noqa: E731
RULE = lambda w: _tier_rule()  # noqa: E731


def _tag_rule() -> int:
    """A rule adding the tag 唤醒跟进 (made here: the world has none; no change-log row)."""
    from kehu.classification.models import Rule
    from kehu.customers.services import tag_get_or_create

    return Rule.objects.get_or_create(name="矩阵标签规则", defaults={
        "tag": tag_get_or_create(name="唤醒跟进"), "tag_action": "add", "priority": 10,
        "condition": {"field": "dim.lifecycle", "op": "in", "value": ["dormant"]}})[0].pk


TAG_RULE = lambda w: _tag_rule()  # noqa: E731
PLANNER_PAGE = expect(403, 403, 403, 200, 403, 200)
PLANNER_ACTION = expect(403, 403, 403, 302, 403, 302)


def _task(w: Any) -> int:
    """An open follow-up task on alice's customer (made once per world)."""
    from kehu.followup.models import FollowUpTask
    from kehu.followup.services import task_create

    found = FollowUpTask.objects.filter(title="矩阵跟进").first()
    return (found or task_create(actor=w.users["alice"], origin="manual", customer=w.customer.pk,
                                 data={"title": "矩阵跟进", "due_date": "2026-12-07"})).pk


def _plan() -> Any:
    """root's plan for VIP customers (made once per world)."""
    from kehu.followup.models import FollowUpPlan
    from kehu.followup.services import plan_save

    found = FollowUpPlan.objects.filter(name="矩阵计划").first()
    return found or plan_save(actor=_root(), origin="manual", data={
        "name": "矩阵计划", "target": f"value:{_tier_value('vip')}", "cadence_days": 30})


def _root() -> Any:
    from kehu.accounts.models import User

    return User.objects.get(username="root")


def _escalation_data(w: Any) -> dict[str, Any]:
    from kehu.followup.reminders import settings_get

    return {"escalate_vip_days": "3", "escalate_a_days": "3", "escalate_b_days": "7",
            "escalate_c_days": "14", "escalate_other_days": "14",
            "version": str(settings_get().version)}


def _plan_data(w: Any) -> dict[str, Any]:
    return {"name": "矩阵计划", "target": f"value:{_tier_value('vip')}", "cadence_days": "30",
            "is_active": "on", "version": str(_plan().version)}


def _calendar_day() -> int:
    from kehu.followup.models import CalendarDay

    return CalendarDay.objects.get_or_create(date="2027-01-01", defaults={
        "kind": "holiday", "name": "元旦"})[0].pk


def _alices_token() -> int:
    from kehu.accounts.models import User
    from kehu.accounts.services import token_create

    return token_create(user=User.objects.get(username="alice"), name="矩阵令牌")[0].pk


def _alices_sign_in() -> int:
    from django.utils import timezone

    from kehu.accounts.models import SignIn, User

    return SignIn.objects.create(session_key="matrix-session", last_seen_at=timezone.now(),
                                 user=User.objects.get(username="alice")).pk


# --- 成员与权限 (tests/accounts/test_team_*.py): admins only ------------------------------


def _role_id(code: str) -> int:
    from kehu.accounts.models import Role

    return Role.objects.get(code=code).pk


def _leaver() -> int:
    """Dora, who left: deactivated before the matrix asks (no change-log row)."""
    from kehu.accounts.models import User
    from kehu.accounts.services import user_create

    found = User.objects.filter(username="dora").first() or user_create(
        username="dora", role_code="sales", password="dora-pass-123")[0]
    User.objects.filter(pk=found.pk).update(is_active=False)
    return found.pk


BOB = lambda w: w.users["bob"].pk  # noqa: E731


def _empty_department(w: Any) -> int:
    """A department with nobody in it (made here: no change-log row), so it may be deleted."""
    from kehu.accounts.services import department_path

    return department_path("总部/矩阵空部门").pk


def _spare_role(w: Any) -> int:
    """A role nobody holds (made here: no change-log row), so it may be deleted."""
    from kehu.accounts.models import Role

    return Role.objects.get_or_create(code="matrix-role", defaults={"name": "矩阵角色"})[0].pk


def _user_data(w: Any) -> dict[str, Any]:
    return {"display_name": "Bob 李二", "department": w.users["bob"].department_id,
            "manager": w.users["mallory"].pk, "role": _role_id("sales")}


def _new_user_data(w: Any) -> dict[str, Any]:
    return {"username": "matrix.rep", "display_name": "矩阵新人", "role": _role_id("sales"),
            "department": w.users["alice"].department_id, "password": "Matrix-river-42"}



def _consent(w: Any) -> int:
    """A live marketing consent on alice's customer (made once per world)."""
    from kehu.privacy.models import Consent
    from kehu.privacy.services import consent_grant

    found = Consent.objects.filter(customer=w.customer).first()
    return found.pk if found else consent_grant(
        actor=w.users["alice"], origin="manual", customer=w.customer,
        data={"purpose": "marketing", "notice_version": "隐私政策 v3", "channel": "phone"}).pk


def _pool(w: Any) -> Any:
    """华东公海 for alice's department, with a rule (made once per world)."""
    from kehu.pool.models import Pool
    from kehu.pool.services import pool_save, rule_save

    found = Pool.objects.filter(name="华东公海").first()
    if found is None:
        found = pool_save(actor=_root(), origin="manual", data={
            "name": "华东公海", "departments": [w.users["alice"].department_id]})
        rule_save(actor=_root(), origin="manual", pool=found, data={"idle_days": 30})
    return found


def _pooled(w: Any) -> int:
    """One of alice's customers, released into 华东公海 (made once per world)."""
    from kehu.pool.models import PoolEntry
    from kehu.pool.services import pool_release

    _pool(w)
    found = PoolEntry.objects.filter(reason="矩阵释放").first()
    if found:
        return found.customer_id
    customer = services.customer_create(actor=w.users["alice"], origin="manual",
                                        data={"kind": "company", "name": "公海里的客户"})
    return pool_release(actor=w.users["alice"], origin="manual", customer=customer.pk,
                        reason="矩阵释放").customer_id


def _pool_data(w: Any) -> dict[str, Any]:
    return {"name": "华东公海", "departments": [w.users["alice"].department_id],
            "daily_claims": "5", "reclaim_wait_days": "30", "is_active": "on",
            "version": str(_pool(w).version)}


def _subject_request(w: Any) -> int:
    """An open data-subject request about alice's customer (a new one once one is closed)."""
    from kehu.privacy.models import SubjectRequest

    found = SubjectRequest.objects.filter(status="open").first()
    return (found or SubjectRequest.objects.create(
        kind="erasure", requester="矩阵请求人", identity_check="回拨核实",
        received_on=dt.date(2026, 11, 2), due_on=dt.date(2026, 12, 2),
        subjects=[{"customer": w.customer.pk, "contact": None}])).pk


def _pool_rule(w: Any) -> Any:
    return _pool(w).rules.first()


TASK = lambda w: _task(w)  # noqa: E731
PLAN = lambda w: _plan().pk  # noqa: E731
CALENDAR_DAY = lambda w: _calendar_day()  # noqa: E731


def _tag_rule_data(w: Any) -> dict[str, str]:
    return {"name": "矩阵标签规则", "tag": "唤醒跟进", "tag_action": "add", "priority": "10",
            "kind": "tag", "is_active": "on",
            "condition": '{"field": "dim.lifecycle", "op": "in", "value": ["dormant"]}'}


def _rule_data(w: Any) -> dict[str, str]:
    return {"name": "矩阵规则", "value": str(_tier_value("vip")), "priority": "5",
            "dimension": str(_tier_dimension()), "is_active": "on",
            "condition": '{"field": "rfm.monetary", "op": "gt", "value": "500000"}'}


CONTACT = lambda w: w.contact.pk  # noqa: E731
JOB = lambda w: w.job.pk  # noqa: E731
SCHEDULE = lambda w: w.schedule.pk  # noqa: E731
RUN = lambda w: w.run.pk  # noqa: E731
JOB_OWNER = expect(200, 404, 404, 404, 404, 200)
PIPELINE = lambda w: w.opportunity.pipeline_id  # noqa: E731
STAGE = lambda w: w.next_stage.pk  # noqa: E731 -- a stage no deal stands in

TABLE: dict[str, list[Case]] = {
    "home": [Case("get", u("home"), expect(302, 302, 302, 302, 302, 302))],
    "login": [Case("get", u("login"), expect(200, 200, 200, 200, 200, 200, 200))],
    # Probes and metrics (kehu/ops, tests/ops): public, no personal data; /metrics is off
    # (404) unless KEHU_METRICS turns it on.
    "healthz": [Case("get", u("healthz"), expect(200, 200, 200, 200, 200, 200, 200))],
    "readyz": [Case("get", u("readyz"), expect(200, 200, 200, 200, 200, 200, 200))],
    "metrics": [Case("get", u("metrics"), expect(404, 404, 404, 404, 404, 404, 404))],
    "logout": [Case("post", u("logout"), expect(302, 302, 302, 302, 302, 302, 302))],
    "accounts:language": [Case("post", u("accounts:language"),
                               expect(302, 302, 302, 302, 302, 302, 302),
                               lambda w: {"language": "en"})],
    # One's own tokens and password: everyone their own; another's token is a 404.
    "accounts:tokens": [Case("get", u("accounts:tokens"), EVERYONE),
                        Case("post", u("accounts:tokens"), EVERYONE,
                             lambda w: {"name": "矩阵", "scope": "read", "days": "30"})],
    "accounts:token_revoke": [Case("post", u("accounts:token_revoke", lambda w: _alices_token()),
                                   expect(302, 404, 404, 404, 404, 404))],
    "accounts:sessions": [Case("get", u("accounts:sessions"), EVERYONE)],
    "accounts:session_end": [Case("post", u("accounts:session_end", lambda w: _alices_sign_in()),
                                  expect(302, 404, 404, 404, 404, 404))],
    "accounts:sessions_end_others": [Case("post", u("accounts:sessions_end_others"),
                                          EVERYONE_ACTION)],
    # Its POST needs each person's own old password: tests/accounts/test_api_tokens.py.
    "accounts:password": [Case("get", u("accounts:password"), EVERYONE)],
    # The sign-in's second step and enrolment serve whoever is half signed in (nobody here):
    # the signed-in go home, anyone else to the password step. tests/accounts/test_two_factor.py
    "login_verify": [Case("get", u("login_verify"), EVERYONE_ACTION),
                     Case("post", u("login_verify"), EVERYONE_ACTION, lambda w: {"code": "123456"})],
    "login_enrol": [Case("get", u("login_enrol"), EVERYONE_ACTION),
                    Case("post", u("login_enrol"), EVERYONE_ACTION, lambda w: {"code": "123456"})],
    # One's own two-factor: everyone theirs (a wrong code or password is a 400).
    "accounts:two_factor": [Case("get", u("accounts:two_factor"), EVERYONE)],
    "accounts:two_factor_enrol": [Case("get", u("accounts:two_factor_enrol"), EVERYONE),
                                  Case("post", u("accounts:two_factor_enrol"),
                                       expect(400, 400, 400, 400, 400, 400), lambda w: {"code": "12"})],
    "accounts:two_factor_recovery": [Case("post", u("accounts:two_factor_recovery"), EVERYONE_ACTION)],
    "accounts:two_factor_disable": [Case("post", u("accounts:two_factor_disable"),
                                         expect(400, 400, 400, 400, 400, 400),
                                         lambda w: {"password": "wrong", "code": "123456"})],
    "customers:list": [Case("get", u("customers:list"), EVERYONE)],
    "customers:create": [Case("get", u("customers:create"), WRITERS)],
    "customers:validate": [Case("post", u("customers:validate"), EVERYONE, lambda w: {"phones": "1"})],
    # Names only the customers the asker may see; the others only "已存在于其他同事名下".
    "customers:duplicates": [Case("get", u("customers:duplicates"), EVERYONE)],
    "customers:duplicate_scan": [Case("post", u("customers:duplicate_scan"), ADMIN_ACTION)],
    "customers:duplicate_dismiss": [Case("post", u("customers:duplicate_dismiss",
                                                   lambda w: w.pair.pk), WRITE_ACTION)],
    "customers:duplicate_hint": [Case("post", u("customers:duplicate_hint"), EVERYONE,
                                      lambda w: {"name": w.customer.name})],
    "customers:bulk_transfer": [Case("post", u("customers:bulk_transfer"), WRITE_ACTION,
                                     lambda w: {"ids": [w.customer.pk], "to_user": w.users["bob"].pk})],
    # Merging needs MANAGE on both customers (tests/customers/test_merge.py); a merge is
    # seen through its survivor and undone by whoever may manage that.
    "customers:merge": [Case("get", lambda w: reverse("customers:merge")
                             + f"?a={w.merge_pair[0].pk}&b={w.merge_pair[1].pk}", WRITE_PAGE),
                        Case("post", u("customers:merge"), WRITE_ACTION,
                             lambda w: {"a": w.merge_pair[0].pk, "b": w.merge_pair[1].pk,
                                        "version_a": 1, "version_b": 1})],
    "customers:merge_detail": [Case("get", u("customers:merge_detail", lambda w: w.merge.pk),
                                    READ_CUSTOMER)],
    "customers:merge_undo": [Case("post", u("customers:merge_undo", lambda w: w.merge.pk),
                                  WRITE_ACTION)],
    # Segments: a private one is its owner's alone (admins included: 404); a team one is seen
    # in the owner's department tree; anyone may save one (its members are always the
    # viewer's own customers, tests/customers/test_segments.py); only the owner deletes.
    "customers:segment": [Case("get", u("customers:segment", lambda w: w.segment.pk),
                               expect(200, 404, 404, 404, 404, 404)),
                          Case("get", u("customers:segment", lambda w: w.team_segment.pk),
                               expect(200, 200, 404, 200, 404, 404)),
                          Case("get", lambda w: reverse("customers:list")
                               + f"?segment={w.segment.pk}", expect(200, 404, 404, 404, 404, 404))],
    "customers:segment_create": [Case("post", u("customers:segment_create"), EVERYONE_ACTION,
                                      lambda w: {"name": "浙江", "visibility": "private",
                                                 "condition": '{"field": "province", "op": "eq", '
                                                              '"value": "浙江省"}'})],
    "customers:segment_delete": [Case("post", u("customers:segment_delete", lambda w: w.segment.pk),
                                      expect(302, 404, 404, 404, 404, 404)),
                                 Case("post", u("customers:segment_delete",
                                                lambda w: w.team_segment.pk),
                                      expect(302, 403, 404, 403, 404, 404))],
    # Data quality: everyone sees their own scope's figures; settings and a run now are for
    # admins; "信息已核实" needs the right to change the customer.
    "customers:quality": [Case("get", u("customers:quality"), EVERYONE)],
    "customers:quality_settings": [Case("get", u("customers:quality_settings"), ADMIN_PAGE)],
    "customers:quality_run": [Case("post", u("customers:quality_run"), ADMIN_ACTION)],
    "customers:verify": [Case("post", u("customers:verify", CUSTOMER), WRITE_ACTION)],
    # The division list (reference data, the same for everyone signed in).
    "customers:regions": [Case("get", lambda w: reverse("customers:regions") + "?parent=440000",
                               EVERYONE)],
    "customers:region_parse": [Case("get", lambda w: reverse("customers:region_parse")
                                    + "?q=深圳南山区", EVERYONE)],
    "customers:trash": [Case("get", u("customers:trash"), EVERYONE)],
    "customers:restore": [Case("post", u("customers:restore", lambda w: w.deleted.pk), WRITE_ACTION)],
    # The settings area's front page lists the sections a person may open; all are admins' so far.
    "settings:index": [Case("get", u("settings:index"), CATALOGUE_PAGE)],  # managers: 销售流程
    "customers:fields": [Case("get", u("customers:fields"), ADMIN_PAGE)],
    "customers:field_create": [Case("get", u("customers:field_create"), ADMIN_PAGE)],
    "customers:field_edit": [Case("get", u("customers:field_edit", lambda w: w.field.pk), ADMIN_PAGE)],
    "customers:field_toggle": [Case("post", u("customers:field_toggle", lambda w: w.field.pk),
                                    ADMIN_ACTION)],
    "customers:detail": [Case("get", u("customers:detail", CUSTOMER), READ_CUSTOMER)],
    "customers:edit": [Case("get", u("customers:edit", CUSTOMER), WRITE_PAGE),
                       Case("post", u("customers:edit", CUSTOMER), WRITE_ACTION,
                            lambda w: {"kind": "company", "name": "改名了",
                                       "version": w.customer.version})],
    "customers:delete": [Case("get", u("customers:delete", CUSTOMER), WRITE_PAGE),
                         Case("post", u("customers:delete", CUSTOMER), WRITE_ACTION,
                              lambda w: {"version": w.customer.version})],
    "customers:transfer": [Case("post", u("customers:transfer", CUSTOMER), WRITE_ACTION,
                                lambda w: {"to_user": w.users["bob"].pk})],
    "customers:share": [Case("post", u("customers:share", CUSTOMER), WRITE_ACTION,
                             lambda w: {"user": w.users["charlie"].pk})],
    # 显示完整号码: only a role with may_reveal (admins have it); the gate's 404 first.
    "customers:reveal": [Case("get", lambda w: reverse("customers:reveal", args=[w.customer.pk])
                              + "?field=phones", expect(403, 404, 404, 403, 403, 200)),
                         Case("post", u("customers:reveal", CUSTOMER),
                              expect(403, 404, 404, 403, 403, 200),
                              lambda w: {"field": "phones", "reason": "核实"})],
    "customers:contact_create": [Case("get", u("customers:contact_create", CUSTOMER), WRITE_PAGE),
                                 Case("post", u("customers:contact_create", CUSTOMER), WRITE_ACTION,
                                      lambda w: {"name": "新联系人"})],
    "customers:contact_edit": [Case("get", u("customers:contact_edit", CONTACT), WRITE_PAGE),
                               Case("post", u("customers:contact_edit", CONTACT), WRITE_ACTION,
                                    lambda w: {"name": "改名", "version": w.contact.version})],
    "customers:contact_delete": [Case("post", u("customers:contact_delete", CONTACT), WRITE_ACTION,
                                      lambda w: {"version": w.contact.version})],
    # The history app's pages (its own engineer owns the views; the rules are the same).
    "history:customer": [Case("get", u("history:customer", CUSTOMER), READ_CUSTOMER)],
    "history:log": [Case("post", u("history:log", CUSTOMER), WRITE_ACTION,
                         lambda w: {"channel": "phone", "direction": "outbound",
                                    "occurred_at": "2026-01-05 10:00", "subject": "回访"})],
    "history:add": [Case("get", lambda w: reverse("history:add", args=[w.customer.pk, "need"]),
                         WRITE_PAGE),
                    Case("post", lambda w: reverse("history:add", args=[w.customer.pk, "need"]),
                         WRITE_ACTION, lambda w: {"content": "要样品", "status": "open"})],
    "history:board": [Case("get", u("history:board"), EVERYONE)],
    # Pipelines are company-wide configuration; the cards on them are scoped (tests/history).
    "history:board_pipeline": [Case("get", lambda w: reverse("history:board_pipeline",
                                                             args=[w.opportunity.pipeline_id]),
                                    EVERYONE),
                               Case("get", lambda w: reverse("history:board_pipeline", args=[999999]),
                                    expect(404, 404, 404, 404, 404, 404))],
    "history:opportunities": [Case("get", u("history:opportunities"), EVERYONE)],
    # A column's next cards: a stage is configuration (everyone), its cards are scoped
    # (tests/history/test_board_at_scale.py); a stage that does not exist is a 404.
    "history:board_cards": [Case("get", u("history:board_cards", lambda w: w.opportunity.stage_id),
                                 EVERYONE),
                            Case("get", u("history:board_cards", lambda w: 999999),
                                 expect(404, 404, 404, 404, 404, 404))],
    "history:move": [Case("post", lambda w: reverse("history:move", args=[w.opportunity.pk]),
                          WRITE_ACTION, lambda w: {"stage": w.next_stage.pk,
                                                   "version": w.opportunity.version})],
    # Pipelines and stages are configured in the settings area by the roles that keep the
    # catalogue: admins and (built in) managers (tests/history/test_pipeline_settings.py).
    # A refused deletion still returns to its page.
    "history:pipelines": [Case("get", u("history:pipelines"), CATALOGUE_PAGE),
                          Case("post", u("history:pipelines"), CATALOGUE_ACTION,
                               lambda w: {"name": "矩阵流程"})],
    "history:pipeline": [Case("get", u("history:pipeline", PIPELINE), CATALOGUE_PAGE),
                         Case("get", u("history:pipeline", lambda w: 999999),
                              expect(403, 403, 403, 404, 403, 404)),
                         Case("post", u("history:pipeline", PIPELINE), CATALOGUE_ACTION,
                              lambda w: {"name": "改名的流程"})],
    "history:pipeline_default": [Case("post", u("history:pipeline_default", PIPELINE), CATALOGUE_ACTION)],
    "history:pipeline_delete": [Case("post", u("history:pipeline_delete", PIPELINE), CATALOGUE_ACTION)],
    "history:stage_create": [Case("post", u("history:stage_create", PIPELINE), CATALOGUE_ACTION,
                                  lambda w: {"stage-new-name": "矩阵阶段", "stage-new-kind": "open"})],
    "history:stage_edit": [Case("post", u("history:stage_edit", STAGE), CATALOGUE_ACTION,
                                lambda w: {f"stage-{w.next_stage.pk}-name": "改名的阶段",
                                           f"stage-{w.next_stage.pk}-probability": "35",
                                           f"stage-{w.next_stage.pk}-kind": "open"})],
    "history:stage_move": [Case("post", u("history:stage_move", STAGE), CATALOGUE_ACTION,
                                lambda w: {"direction": "up"})],
    "history:stage_delete": [Case("post", u("history:stage_delete", STAGE), CATALOGUE_ACTION)],
    "history:orders": [Case("get", u("history:orders"), EVERYONE)],
    # Classification: a hand-set tier is a change of the customer; the RFM grid is
    # everyone's own customers (scope inside: tests/classification).
    "classification:override": [Case("post", lambda w: reverse(
        "classification:override", args=[w.customer.pk, _tier_dimension()]), WRITE_ACTION,
        lambda w: {"value": ""})],
    "classification:rfm": [Case("get", u("classification:rfm"), EVERYONE)],
    # Dimensions, values and rules are configured in the settings area: admins only, like
    # pipelines (tests/classification/test_settings_screens.py). A refused button (a value
    # still in use) returns to its page; the preview is a partial for the rule's page.
    "classification:dimensions": [Case("get", u("classification:dimensions"), ADMIN_PAGE),
                                  Case("post", u("classification:dimensions"), ADMIN_ACTION,
                                       lambda w: {"name": "矩阵维度"})],
    "classification:dimension": [Case("get", u("classification:dimension", TIER), ADMIN_PAGE),
                                 Case("get", u("classification:dimension", lambda w: 999999),
                                      expect(403, 403, 403, 403, 403, 404)),
                                 Case("post", u("classification:dimension", TIER), ADMIN_ACTION,
                                      lambda w: {"name": "改名的维度"})],
    "classification:dimension_move": [Case("post", u("classification:dimension_move", TIER),
                                           ADMIN_ACTION, lambda w: {"direction": "down"})],
    "classification:dimension_active": [Case("post", u("classification:dimension_active", TIER),
                                             ADMIN_ACTION, lambda w: {"active": "0"})],
    "classification:value_create": [Case("post", u("classification:value_create", TIER),
                                         ADMIN_ACTION, lambda w: {"value-new-label": "矩阵值"})],
    "classification:value_edit": [Case("post", u("classification:value_edit", VALUE), ADMIN_ACTION,
                                       lambda w: {f"value-{_tier_value()}-label": "甲类"})],
    "classification:value_move": [Case("post", u("classification:value_move", VALUE), ADMIN_ACTION,
                                       lambda w: {"direction": "up"})],
    # VIP: no rule sets it and no customer holds it yet, so it may go (and be deactivated).
    "classification:value_active": [Case("post", u("classification:value_active", VIP),
                                         ADMIN_ACTION, lambda w: {"active": "0"})],
    "classification:value_delete": [Case("post", u("classification:value_delete", VIP),
                                         ADMIN_ACTION)],
    "classification:rule_create": [Case("get", u("classification:rule_create", TIER), ADMIN_PAGE),
                                   Case("post", u("classification:rule_create", TIER),
                                        ADMIN_ACTION, _rule_data)],
    "classification:rule_edit": [Case("get", u("classification:rule_edit", RULE), ADMIN_PAGE),
                                 Case("get", u("classification:rule_edit", lambda w: 999999),
                                      expect(403, 403, 403, 403, 403, 404)),
                                 Case("post", u("classification:rule_edit", RULE), ADMIN_ACTION,
                                      _rule_data),
                                 Case("get", u("classification:rule_edit", TAG_RULE), ADMIN_PAGE),
                                 Case("post", u("classification:rule_edit", TAG_RULE),
                                      ADMIN_ACTION, _tag_rule_data)],
    "classification:rule_move": [Case("post", u("classification:rule_move", RULE), ADMIN_ACTION,
                                      lambda w: {"direction": "up"}),
                                 Case("post", u("classification:rule_move", TAG_RULE),
                                      ADMIN_ACTION, lambda w: {"direction": "up"})],
    "classification:rule_delete": [Case("post", u("classification:rule_delete", RULE),
                                        ADMIN_ACTION),
                                   Case("post", u("classification:rule_delete", TAG_RULE),
                                        ADMIN_ACTION)],
    "classification:rule_preview": [Case("post", u("classification:rule_preview"),
                                         expect(403, 403, 403, 403, 403, 200), _rule_data),
                                    Case("post", u("classification:rule_preview"),
                                         expect(403, 403, 403, 403, 403, 200), _tag_rule_data)],
    # Tag rules (标签规则): the same rule screens, one list per tag
    # (tests/classification/test_tag_rule_screens.py).
    "classification:tag_rules": [Case("get", u("classification:tag_rules"), ADMIN_PAGE)],
    "classification:tag_rule_create": [
        Case("get", u("classification:tag_rule_create"), ADMIN_PAGE),
        Case("post", u("classification:tag_rule_create"), ADMIN_ACTION,
             lambda w: {**_tag_rule_data(w), "name": "矩阵新标签规则"})],
    # Follow-up (tests/followup): my day is everyone's own; a task follows its customer; plans
    # are read by everyone and kept by admins and managers (a manager only her own: root's
    # plan is a 404 to mallory); the working-day calendar is for admins.
    "followup:today": [Case("get", u("followup:today"), EVERYONE),
                       Case("get", lambda w: reverse("followup:today") + "?tab=team", EVERYONE)],
    "followup:team_member": [Case("get", lambda w: reverse("followup:team_member",
                                                           args=[w.users["alice"].pk]), EVERYONE)],
    "followup:task_log": [Case("get", u("followup:task_log", TASK), WRITE_PAGE),
                          Case("post", u("followup:task_log", TASK), WRITE_ACTION, lambda w: {
                              "channel": "phone", "direction": "outbound",
                              "occurred_at": "2026-12-01T10:00"})],
    "followup:task_done": [Case("post", u("followup:task_done", TASK), WRITE_ACTION)],
    "followup:task_cancel": [Case("post", u("followup:task_cancel", TASK), WRITE_ACTION)],
    "followup:task_add": [Case("get", u("followup:task_add", CUSTOMER), WRITE_PAGE),
                          Case("post", u("followup:task_add", CUSTOMER), WRITE_ACTION,
                               lambda w: {"kind": "manual", "title": "矩阵任务",
                                          "due_date": "2026-12-10"})],
    "followup:plans": [Case("get", u("followup:plans"), EVERYONE)],
    "followup:plan_create": [Case("get", u("followup:plan_create"), PLANNER_PAGE),
                             Case("post", u("followup:plan_create"), PLANNER_ACTION, _plan_data)],
    "followup:plan_edit": [Case("get", u("followup:plan_edit", PLAN), expect(403, 403, 403, 404, 403, 200)),
                           Case("post", u("followup:plan_edit", PLAN),
                                expect(403, 403, 403, 404, 403, 302), _plan_data)],
    "followup:plan_move": [Case("post", u("followup:plan_move", PLAN),
                                expect(403, 403, 403, 404, 403, 302), lambda w: {"direction": "up"})],
    "followup:escalation": [Case("post", u("followup:escalation"), PLANNER_ACTION,
                                 _escalation_data)],
    "followup:calendar": [Case("get", u("followup:calendar"), ADMIN_PAGE),
                          Case("post", u("followup:calendar"), ADMIN_ACTION,
                               lambda w: {"date": "2027-10-01", "kind": "holiday", "name": "国庆节"})],
    "followup:calendar_delete": [Case("post", u("followup:calendar_delete", CALENDAR_DAY),
                                      ADMIN_ACTION)],
    # The pool (tests/pool): 华东公海 serves alice's department (alice, bob, mallory). Members
    # claim (alice, its previous owner, is refused with a message: a redirect); the analyst
    # sees it but is no member (403); managers and admins assign; the owner (or manager)
    # releases; pools and rules are admins'.
    "pool:list": [Case("get", u("pool:list"), EVERYONE)],
    "pool:claim": [Case("post", u("pool:claim", _pooled), expect(302, 302, 404, 302, 403, 302))],
    "pool:assign": [Case("post", u("pool:assign", _pooled), expect(403, 403, 404, 302, 403, 302),
                         lambda w: {"to_user": w.users["bob"].pk})],
    "pool:release": [Case("post", lambda w: _pool(w) and reverse("pool:release", args=[
        w.customer.pk]), WRITE_ACTION)],
    "pool:settings": [Case("get", u("pool:settings"), ADMIN_PAGE)],
    "pool:pool_create": [Case("get", u("pool:pool_create"), ADMIN_PAGE),
                         Case("post", u("pool:pool_create"), ADMIN_ACTION, lambda w: {
                             **_pool_data(w), "name": "矩阵公海"})],
    "pool:pool_edit": [Case("get", u("pool:pool_edit", lambda w: _pool(w).pk), ADMIN_PAGE),
                       Case("post", u("pool:pool_edit", lambda w: _pool(w).pk), ADMIN_ACTION,
                            _pool_data)],
    "pool:pool_delete": [Case("post", u("pool:pool_delete", lambda w: _pool(w).pk), ADMIN_ACTION,
                              lambda w: {"version": str(_pool(w).version)})],
    "pool:rule_create": [Case("get", u("pool:rule_create", lambda w: _pool(w).pk), ADMIN_PAGE),
                         Case("post", u("pool:rule_create", lambda w: _pool(w).pk), ADMIN_ACTION,
                              lambda w: {"idle_days": "60", "warn_days": "3", "is_active": "on"})],
    "pool:rule_edit": [Case("get", lambda w: reverse("pool:rule_edit", args=[
                           _pool(w).pk, _pool_rule(w).pk]), ADMIN_PAGE),
                       Case("post", lambda w: reverse("pool:rule_edit", args=[
                           _pool(w).pk, _pool_rule(w).pk]), ADMIN_ACTION, lambda w: {
                           "idle_days": "45", "warn_days": "3", "is_active": "on",
                           "version": str(_pool_rule(w).version)})],
    "pool:rule_delete": [Case("post", lambda w: reverse("pool:rule_delete", args=[
                             _pool(w).pk, _pool_rule(w).pk]), ADMIN_ACTION,
                              lambda w: {"version": str(_pool_rule(w).version)})],
    "history:tickets": [Case("get", u("history:tickets"), EVERYONE)],
    # The card's 同意记录 panel (tests/privacy): it follows the customer; without HTMX the
    # panel's address sends back to the card. Granting and withdrawing need CHANGE.
    "privacy:consents": [Case("get", u("privacy:consents", CUSTOMER),
                              expect(302, 404, 404, 302, 302, 302))],
    "privacy:grant": [Case("post", u("privacy:grant", CUSTOMER), WRITE_ACTION, lambda w: {
        "purpose": "marketing", "notice_version": "隐私政策 v3", "channel": "phone"})],
    "privacy:withdraw": [Case("post", u("privacy:withdraw", _consent), WRITE_ACTION)],
    # The blank import template holds no data: any signed-in person may download it.
    "transfer:import_template": [Case("get", u("transfer:import_template", lambda w: "customers"),
                                      EVERYONE)],
    # Imports: any writer may upload; a run (its file holds customer data) is seen only by
    # whoever started it and admins, 404 for everyone else.
    "transfer:import_list": [Case("get", u("transfer:import_list"), EVERYONE)],
    "transfer:import_detail": [Case("get", u("transfer:import_detail", RUN), JOB_OWNER)],
    "transfer:import_progress": [Case("get", u("transfer:import_progress", RUN), JOB_OWNER)],
    "transfer:import_configure": [Case("post", u("transfer:import_configure", RUN),
                                       expect(302, 404, 404, 404, 404, 302),
                                       lambda w: {"map-0": "name"})],
    "transfer:import_undo": [Case("post", u("transfer:import_undo", lambda w: w.done_run.pk),
                                  expect(302, 404, 404, 404, 404, 302))],
    "transfer:import_report": [Case("get", lambda w: reverse("transfer:import_report",
                                                             args=[w.run.pk, "preview", "csv"]),
                                    JOB_OWNER)],
    # Export: everyone whose role may export gets their own list (scope is in the rows,
    # tests/transfer/test_export_*); the analyst's role may not export by default.
    "transfer:export_customers": [Case("post", u("transfer:export_customers"),
                                       expect(200, 200, 200, 200, 403, 200),
                                       lambda w: {"format": "csv"})],
    # The orders page's export: the same rule, its lines (tests/transfer/test_export_history*).
    "transfer:export_orders": [Case("post", u("transfer:export_orders"),
                                    expect(200, 200, 200, 200, 403, 200),
                                    lambda w: {"format": "csv"})],
    # A job and its files belong to the person who started it; admins see every job.
    "jobs:list": [Case("get", u("jobs:list"), EVERYONE)],
    "jobs:detail": [Case("get", u("jobs:detail", JOB), JOB_OWNER)],
    "jobs:progress": [Case("get", u("jobs:progress", JOB), JOB_OWNER)],
    "jobs:file": [Case("get", lambda w: reverse("jobs:file", args=[w.job.pk, w.job_file.pk]),
                       JOB_OWNER)],
    "jobs:cancel": [Case("post", u("jobs:cancel", JOB), expect(302, 404, 404, 404, 404, 302))],
    # Re-running is for admins; alice sees her job but may not re-run it.
    "jobs:rerun": [Case("post", u("jobs:rerun", lambda w: w.failed_job.pk),
                        expect(403, 404, 404, 404, 404, 302))],
    "jobs:schedules": [Case("get", u("jobs:schedules"), ADMIN_PAGE)],
    # The audit trail (设置 → 审计日志) and its export: admins only.
    "audit:list": [Case("get", u("audit:list"), ADMIN_PAGE)],
    "transfer:audit_export": [Case("get", lambda w: reverse("transfer:audit_export") + "?format=csv",
                                   ADMIN_PAGE)],
    "jobs:schedule_edit": [Case("post", u("jobs:schedule_edit", SCHEDULE), ADMIN_ACTION,
                                lambda w: {"cron": "0 4 * * *", "enabled": "on"})],
    "jobs:schedule_run": [Case("post", u("jobs:schedule_run", SCHEDULE), ADMIN_ACTION)],
    # Notifications are private: anyone else's is a 404, admins included.
    "notifications:list": [Case("get", u("notifications:list"), EVERYONE)],
    "notifications:bell": [Case("get", u("notifications:bell"), expect(200, 200, 200, 200, 200, 200, 204))],
    "notifications:read_all": [Case("post", u("notifications:read_all"),
                                    expect(302, 302, 302, 302, 302, 302, 302))],
    "notifications:read": [Case("post", u("notifications:read", lambda w: w.notification.pk),
                                expect(302, 404, 404, 404, 404, 404, 302))],
    # 成员与权限 (tests/accounts/test_team_users.py): admins only, 403 for everyone else.
    "team:users": [Case("get", u("team:users"), ADMIN_PAGE)],
    "team:user_create": [Case("get", u("team:user_create"), ADMIN_PAGE),
                         Case("post", u("team:user_create"), ADMIN_ACTION, _new_user_data)],
    "team:user_edit": [Case("get", u("team:user_edit", BOB), ADMIN_PAGE),
                       Case("post", u("team:user_edit", BOB), ADMIN_ACTION, _user_data)],
    "team:user_deactivate": [Case("post", u("team:user_deactivate", BOB), ADMIN_ACTION)],
    "team:user_reactivate": [Case("post", lambda w: reverse("team:user_reactivate",
                                                            args=[_leaver()]), ADMIN_ACTION)],
    "team:user_password": [Case("post", u("team:user_password", BOB), ADMIN_ACTION,
                                lambda w: {"password": "Matrix-meadow-77"})],
    "team:departments": [Case("get", u("team:departments"), ADMIN_PAGE),
                         Case("post", u("team:departments"), ADMIN_ACTION, lambda w: {
                             "new-name": "矩阵新部门",
                             "new-parent": w.users["alice"].department_id})],
    "team:department_edit": [Case("get", u("team:department_edit", _empty_department), ADMIN_PAGE),
                             Case("post", u("team:department_edit", _empty_department),
                                  ADMIN_ACTION, lambda w: {
                                      "name": "矩阵部门改名",
                                      "parent": w.users["alice"].department_id})],
    "team:department_delete": [Case("post", u("team:department_delete", _empty_department),
                                    ADMIN_ACTION)],
    "team:roles": [Case("get", u("team:roles"), ADMIN_PAGE)],
    # 离职交接 (tests/customers/test_handover.py): alice's customers to bob, alice deactivated.
    "handover:start": [Case("get", u("handover:start"), ADMIN_PAGE),
                       Case("post", u("handover:start"), ADMIN_ACTION, lambda w: {
                           "from_user": w.users["alice"].pk, "to_user": w.users["bob"].pk,
                           "deactivate": "on"})],
    "team:role_create": [Case("get", u("team:role_create"), ADMIN_PAGE),
                         Case("post", u("team:role_create"), ADMIN_ACTION,
                              lambda w: {"name": "矩阵督导", "data_scope": "dept"})],
    "team:role_edit": [Case("get", u("team:role_edit", _spare_role), ADMIN_PAGE),
                       Case("post", u("team:role_edit", _spare_role), ADMIN_ACTION,
                            lambda w: {"name": "矩阵角色二", "data_scope": "all"})],
    "team:role_delete": [Case("post", u("team:role_delete", _spare_role), ADMIN_ACTION)],
    # 个人信息权利请求 (tests/privacy/test_subject_request_*): admins only; the copy's download
    # is transfer's (the sheet writers live there).
    "privacy:requests": [Case("get", u("privacy:requests"), ADMIN_PAGE)],
    "privacy:request_new": [Case("get", u("privacy:request_new"), ADMIN_PAGE),
                            Case("post", u("privacy:request_new"), ADMIN_ACTION, lambda w: {
                                "kind": "access", "requester": "矩阵请求人",
                                "identity_check": "核对证件"})],
    "privacy:request": [Case("get", u("privacy:request", _subject_request), ADMIN_PAGE)],
    "privacy:request_find": [Case("post", u("privacy:request_find", _subject_request),
                                  ADMIN_PAGE, lambda w: {"name": "杭州"})],
    "privacy:request_subjects": [Case("post", u("privacy:request_subjects", _subject_request),
                                      ADMIN_ACTION,
                                      lambda w: {"pick": f"customer:{w.customer.pk}"})],
    "privacy:request_erase": [Case("post", u("privacy:request_erase", _subject_request),
                                   ADMIN_ACTION, lambda w: {"reason": "本人要求"})],
    "privacy:request_close": [Case("post", u("privacy:request_close", _subject_request),
                                   ADMIN_ACTION, lambda w: {"status": "refused",
                                                            "outcome": "身份无法核实"})],
    "transfer:subject_report": [Case("get", lambda w: reverse(
        "transfer:subject_report", args=[_subject_request(w)]) + "?format=xlsx", ADMIN_PAGE)],
    "demo:start": [Case("get", u("demo:start"), ADMIN_PAGE),
                   Case("post", u("demo:start"), ADMIN_ACTION, lambda w: {"customers": "10", "seed": "1"})],
}


def site_routes() -> set[str]:
    """The name of every route outside the API, static files and the admin."""
    found = set()

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                inner = ":".join(p for p in (namespace, entry.namespace) if p)
                walk(entry, route, inner)
            elif isinstance(entry, URLPattern):
                found.add(f"{namespace}:{entry.name}" if namespace else entry.name or route)

    walk(get_resolver(), "", "")
    return found


def test_every_route_of_the_site_is_in_the_table():
    routes = site_routes()
    assert routes - TABLE.keys() == set(), "add these routes to TABLE with who may open them"
    assert TABLE.keys() - routes == set(), "these TABLE entries no longer exist"


@pytest.fixture
def world(alice, bob, charlie, mallory, anna, root, alices_customer, root_field) -> World:
    users = {"alice": alice, "bob": bob, "charlie": charlie, "mallory": mallory, "anna": anna,
             "root": root}
    return world_build(users, alices_customer, root_field)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One world for all the module's cases (about 1,600): each test's transaction rolls back
    to it. Built for each case, it was 657 s of the SQLite suite's 1,708 s (load ~3)."""

    def build() -> World:
        users = people_create()
        return world_build(users, alices_customer_create(users["alice"]),
                           root_field_create(users["root"]))

    with kept_for_the_module(django_db_blocker, build) as made:
        yield made


def world_build(users: dict[str, Any], customer: Customer, root_field: CustomField) -> World:
    """alice's customer with a contact, a deal, jobs, imports, merges, segments; a deleted
    customer; what each route of TABLE points at."""
    alice = users["alice"]
    contact = services.contact_create(actor=alice, origin="manual", customer=customer,
                                      data={"name": "陈经理", "phones": ["13700002222"]})
    deleted = services.customer_create(actor=alice, origin="manual", data={"kind": "person",
                                                                           "name": "回收站里的人"})
    services.customer_delete(actor=alice, origin="manual", customer=deleted)
    deal = history_services.opportunity_create(actor=alice, origin="manual", customer=customer,
                                               data={"title": "矩阵商机"})
    next_stage = deal.pipeline.stages.filter(kind="open").exclude(pk=deal.stage_id) \
        .order_by("position").first()
    job, job_file, schedule = _alices_job_with_a_file(alice)
    from kehu.jobs.models import Job
    from kehu.notifications.services import notify

    note = notify(recipient=alice, title="导入完成", link="/customers/", actor=None, origin="system")
    failed = Job.objects.create(kind="jobs.prune", title="alice 失败的任务", actor=alice,
                                origin="manual", status="failed", error="boom")
    world = World(users, customer, contact, deleted, root_field, deal, next_stage,
                  job, job_file, schedule, note, failed, _alices_import(alice, dry_run=True),
                  _alices_import(alice, dry_run=False))
    world.merge_pair, world.merge = _alices_merges(alice)
    world.pair = _alices_duplicate_pair(world.merge_pair)
    world.segment, world.team_segment = _alices_segments(alice)
    return world


def _alices_segments(alice):
    from kehu.customers.segments import segment_save

    condition = {"field": "province", "op": "in", "value": ["浙江省"]}
    return [segment_save(actor=alice, origin="manual", data={
        "name": f"浙江{visibility}", "condition": condition, "visibility": visibility})
        for visibility in ("private", "team")]


def _alices_duplicate_pair(customers):
    from django.utils import timezone

    from kehu.customers.models import DuplicatePair

    return DuplicatePair.objects.create(a_id=customers[0].pk, b_id=customers[1].pk, score=0.9,
                                        reasons=["名称相近"], found_at=timezone.now())


def _alices_merges(alice):
    from kehu.customers.merging import customer_merge

    pair = [services.customer_create(actor=alice, origin="manual",
                                     data={"kind": "company", "name": f"合并{n}"}) for n in "甲乙"]
    done = [services.customer_create(actor=alice, origin="manual",
                                     data={"kind": "company", "name": f"已合并{n}"}) for n in "甲乙"]
    return pair, customer_merge(actor=alice, origin="manual", survivor=done[0], duplicate=done[1])


def _alices_import(alice, *, dry_run: bool):
    """A run alice previewed or imported: one row rejected, so its error report exists."""
    import tempfile
    from pathlib import Path

    from kehu.jobs.services import run_here
    from kehu.transfer.importing import import_start
    from kehu.transfer.services import import_configure, import_upload

    with tempfile.TemporaryDirectory() as folder:
        sheet = Path(folder) / "客户.csv"
        phone = "13800001111" if dry_run else "13800002222"
        sheet.write_text(f"客户名称,手机\n甲公司{phone},{phone}\n乙公司,123\n", encoding="utf-8")
        run = import_upload(actor=alice, origin="manual", target="customers", file=sheet,
                            filename=sheet.name)
    run = import_configure(actor=alice, origin="manual", run=run, mapping=run.mapping,
                           match=["phone"])
    run = import_start(actor=alice, origin="manual", run=run, dry_run=dry_run, queued=False)
    run_here(run.preview_job if dry_run else run.import_job)
    run.refresh_from_db()
    return run


def _alices_job_with_a_file(alice):
    from django.conf import settings

    from kehu.jobs.models import Job, JobFile, Schedule
    from kehu.jobs.schedules import sync_schedules

    job = Job.objects.create(kind="jobs.prune", title="alice 的任务", actor=alice, origin="manual")
    folder = settings.MEDIA_ROOT / "jobs" / str(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.csv").write_text("a,b\n1,2\n")
    job_file = JobFile.objects.create(job=job, name="report.csv", path=f"jobs/{job.pk}/report.csv",
                                      size=8, content_type="text/csv")
    sync_schedules()
    return job, job_file, Schedule.objects.get(name="jobs.prune")


@pytest.fixture
def root_field(root) -> CustomField:
    return root_field_create(root)


def root_field_create(root: Any) -> CustomField:
    return services.custom_field_save(actor=root, origin="manual", data={
        "key": "level", "label": "等级", "field_type": "text"})


CASES = [(name, index, case) for name, cases in TABLE.items() for index, case in enumerate(cases)]


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize(("route", "index", "case"), CASES,
                         ids=[f"{n}-{c.method}{i or ''}" for n, i, c in CASES])
def test_who_gets_what(shared_world, person, route, index, case):
    world = shared_world
    client = Client()
    if person != "anonymous":
        client.force_login(world.users[person])
    response = getattr(client, case.method)(case.url(world), case.data(world))
    expected = case.expected[person]
    assert response.status_code == expected, f"{person} {case.method.upper()} {route}"
    if expected != 302 or route in ("home", "logout", "accounts:language"):
        return
    to_login = response["Location"].startswith(reverse("login"))
    assert to_login == (person == "anonymous"), response["Location"]
