from django.urls import path

from kehu.history import views

app_name = "history"

urlpatterns = [
    path("customers/<int:customer_id>/", views.customer_history, name="customer"),
    path("customers/<int:customer_id>/log/", views.communication_log, name="log"),
    path("customers/<int:customer_id>/add/<slug:kind>/", views.record_add, name="add"),
    path("board/", views.board, name="board"),
    path("board/<int:pipeline_id>/", views.board, name="board_pipeline"),
    path("opportunities/", views.opportunity_list, name="opportunities"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="move"),
    path("orders/", views.order_list, name="orders"),
    path("tickets/", views.ticket_list, name="tickets"),
]
