"""Customer pages: the list, the card, forms, the recycle bin and custom field definitions."""

from django.urls import path

from kehu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("validate/", views.customer_validate_field, name="validate"),
    path("bulk-transfer/", views.customer_bulk_transfer, name="bulk_transfer"),
    path("trash/", views.trash, name="trash"),
    path("trash/<int:pk>/restore/", views.customer_restore, name="restore"),
    path("fields/", views.custom_field_list, name="fields"),
    path("fields/new/", views.custom_field_edit, name="field_create"),
    path("fields/<int:pk>/", views.custom_field_edit, name="field_edit"),
    path("fields/<int:pk>/toggle/", views.custom_field_toggle, name="field_toggle"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/transfer/", views.customer_transfer, name="transfer"),
    path("<int:pk>/share/", views.customer_share, name="share"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
]
