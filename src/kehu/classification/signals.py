"""Signals classification sends, for apps above it (follow-up plans) to hear without being known.

`classes_changed` is sent with `ids` (the customers) and `dimensions` (the ids of the
dimensions whose values moved for some of them) inside the writer's transaction
whenever a customer's value in a dimension changed — by a rule run (`engine.apply`; once
for all dimensions from `services.classify_customers`) or a person's override
(`services.class_override`, its clearing too: the value goes with the override when no
rule holds the customer). Not sent for tag changes. Follow-up moves a customer whose tier
changed to its new plan's cadence at once.
"""

from django.dispatch import Signal

classes_changed = Signal()
