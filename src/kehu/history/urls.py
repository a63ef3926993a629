from django.urls import path

from kehu.history import pipeline_views, views

app_name = "history"

urlpatterns = [
    path("customers/<int:customer_id>/", views.customer_history, name="customer"),
    path("customers/<int:customer_id>/log/", views.communication_log, name="log"),
    path("customers/<int:customer_id>/add/<slug:kind>/", views.record_add, name="add"),
    path("board/", views.board, name="board"),
    path("board/<int:pipeline_id>/", views.board, name="board_pipeline"),
    path("board/stages/<int:stage_id>/", views.board_cards, name="board_cards"),
    path("opportunities/", views.opportunity_list, name="opportunities"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="move"),
    path("orders/", views.order_list, name="orders"),
    path("tickets/", views.ticket_list, name="tickets"),
    # Pipelines and stages: the settings area's screens (admins), all under pipelines/.
    path("pipelines/", pipeline_views.pipeline_list, name="pipelines"),
    path("pipelines/<int:pk>/", pipeline_views.pipeline_detail, name="pipeline"),
    path("pipelines/<int:pk>/default/", pipeline_views.pipeline_default, name="pipeline_default"),
    path("pipelines/<int:pk>/delete/", pipeline_views.pipeline_remove, name="pipeline_delete"),
    path("pipelines/<int:pk>/stages/", pipeline_views.stage_create, name="stage_create"),
    path("pipelines/stages/<int:pk>/", pipeline_views.stage_edit, name="stage_edit"),
    path("pipelines/stages/<int:pk>/move/", pipeline_views.stage_move, name="stage_move"),
    path("pipelines/stages/<int:pk>/delete/", pipeline_views.stage_remove, name="stage_delete"),
]
