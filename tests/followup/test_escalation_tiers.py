"""The escalation tiers are written once (models.ESCALATION_TIERS): the settings' columns,
the form, its cleaning and the escalation run's tiers all follow it."""

from __future__ import annotations

from kehu.classification.defaults import DIMENSIONS
from kehu.followup.cleaning import ESCALATION_FIELDS
from kehu.followup.forms import EscalationForm
from kehu.followup.models import ESCALATION_TIERS, FollowUpSettings
from kehu.followup.ranking import TIER_DIMENSION
from kehu.followup.reminders import NAMED_TIERS


def test_one_tuple_gives_the_columns_the_form_the_cleaning_and_the_named_tiers():
    columns = [column for _key, column, _label in ESCALATION_TIERS]
    assert list(ESCALATION_FIELDS) == columns == list(EscalationForm.base_fields)
    assert [str(f.label) for f in EscalationForm.base_fields.values()] == [
        "VIP", "A 类", "B 类", "C 类", "未分级"]
    assert FollowUpSettings().thresholds() == {"vip": 3, "a": 3, "b": 7, "c": 14, "": 14}
    shipped = next(values for key, _n, _e, values in DIMENSIONS if key == TIER_DIMENSION)
    assert NAMED_TIERS == tuple(key for key, *_rest in shipped) == ("vip", "a", "b", "c")
