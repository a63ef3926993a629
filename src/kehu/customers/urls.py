"""Customer pages: the list, the card, forms, the recycle bin and custom field definitions."""

from django.urls import path

from kehu.customers.views import (
    card,
    contacts,
    duplicates,
    edit,
    fields,
    listing,
    merge,
    quality,
    regions,
    segments,
)

app_name = "customers"

urlpatterns = [
    path("", listing.customer_list, name="list"),
    path("new/", edit.customer_create, name="create"),
    path("validate/", edit.customer_validate_field, name="validate"),
    path("duplicates/", duplicates.duplicate_list, name="duplicates"),
    path("duplicates/check/", duplicates.duplicate_hint, name="duplicate_hint"),
    path("duplicates/scan/", duplicates.duplicate_scan, name="duplicate_scan"),
    path("duplicates/<int:pk>/dismiss/", duplicates.duplicate_dismiss, name="duplicate_dismiss"),
    path("bulk-transfer/", listing.customer_bulk_transfer, name="bulk_transfer"),
    path("merge/", merge.customer_merge, name="merge"),
    path("merges/<int:pk>/", merge.merge_detail, name="merge_detail"),
    path("merges/<int:pk>/undo/", merge.merge_undo, name="merge_undo"),
    path("segments/new/", segments.segment_create, name="segment_create"),
    path("segments/<int:pk>/", segments.segment_detail, name="segment"),
    path("segments/<int:pk>/delete/", segments.segment_remove, name="segment_delete"),
    path("quality/", quality.quality_page, name="quality"),
    path("quality/settings/", quality.quality_settings, name="quality_settings"),
    path("quality/run/", quality.quality_run, name="quality_run"),
    path("regions/", regions.region_children, name="regions"),
    path("regions/parse/", regions.region_parse, name="region_parse"),
    path("trash/", edit.trash, name="trash"),
    path("trash/<int:pk>/restore/", edit.customer_restore, name="restore"),
    path("fields/", fields.custom_field_list, name="fields"),
    path("fields/new/", fields.custom_field_edit, name="field_create"),
    path("fields/<int:pk>/", fields.custom_field_edit, name="field_edit"),
    path("fields/<int:pk>/toggle/", fields.custom_field_toggle, name="field_toggle"),
    path("<int:pk>/", card.customer_detail, name="detail"),
    path("<int:pk>/edit/", edit.customer_edit, name="edit"),
    path("<int:pk>/delete/", edit.customer_delete, name="delete"),
    path("<int:pk>/transfer/", card.customer_transfer, name="transfer"),
    path("<int:pk>/share/", card.customer_share, name="share"),
    path("<int:pk>/reveal/", card.customer_reveal, name="reveal"),
    path("<int:pk>/verify/", quality.customer_verify, name="verify"),
    path("<int:pk>/contacts/new/", contacts.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", contacts.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", contacts.contact_delete, name="contact_delete"),
]
