from django.urls import path

from rectify.ledger import excel_views, views

app_name = "ledger"
urlpatterns = [
    path("", views.task_list, name="task_list"),
    path("list/view/", views.list_view_save, name="list_view_save"),
    path("list/filters/", views.saved_filter_save, name="saved_filter_save"),
    path("list/filters/delete/", views.saved_filter_delete, name="saved_filter_delete"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("import/", excel_views.import_upload, name="import_upload"),
    path("import/preview/", excel_views.import_preview, name="import_preview"),
    path("import/confirm/", excel_views.import_confirm, name="import_confirm"),
    path("import/cancel/", excel_views.import_cancel, name="import_cancel"),
    path("export.xlsx", excel_views.export_xlsx, name="export_xlsx"),
]
