from django.urls import path

from kehu.privacy import views

app_name = "privacy"

urlpatterns = [
    path("customers/<int:customer_id>/consents/", views.consent_panel, name="consents"),
    path("customers/<int:customer_id>/consents/grant/", views.consent_grant, name="grant"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw, name="withdraw"),
]
