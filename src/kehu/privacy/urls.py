from django.urls import path

from kehu.privacy import request_views, views

app_name = "privacy"

urlpatterns = [
    path("customers/<int:customer_id>/consents/", views.consent_panel, name="consents"),
    path("customers/<int:customer_id>/consents/grant/", views.consent_grant, name="grant"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw, name="withdraw"),
    path("requests/", request_views.request_list, name="requests"),
    path("requests/new/", request_views.request_new, name="request_new"),
    path("requests/<int:pk>/", request_views.request_detail, name="request"),
    path("requests/<int:pk>/find/", request_views.request_find, name="request_find"),
    path("requests/<int:pk>/subjects/", request_views.request_subjects, name="request_subjects"),
    path("requests/<int:pk>/erase/", request_views.request_erase, name="request_erase"),
    path("requests/<int:pk>/close/", request_views.request_close, name="request_close"),
]
