"""Classification pages: the card's override, the RFM grid (settings pages: settings_urls)."""

from django.urls import path

from kehu.classification import views

app_name = "classification"

urlpatterns = [
    path("customers/<int:customer_id>/dimensions/<int:dimension_id>/", views.override,
         name="override"),
    path("rfm/", views.rfm_grid, name="rfm"),
]
