from django.urls import path

from rectify.disclosure import portal_views as v

app_name = "portal"

urlpatterns = [
    path("", v.overview, name="overview"),
    path("tasks/", v.task_list, name="task_list"),
    path("tasks/<int:pk>/", v.task_detail, name="task_detail"),
    path("tasks/<int:pk>/history.json", v.task_history, name="task_history"),
    path("notices/", v.notice_list, name="notice_list"),
    path("notices/<int:pk>/", v.notice_detail, name="notice_detail"),
    path("receipt/", v.receipt_lookup, name="receipt"),
    path("closed/", v.closed_list, name="closed_list"),
    path("lookbacks/", v.lookback_list, name="lookback_list"),
    path("articles/", v.article_list, name="article_list"),
    path("articles/<int:pk>/", v.article_detail, name="article_detail"),
    path("files/<int:pk>/", v.article_file, name="article_file"),
    path("plan/", v.plan, name="plan"),
    path("data/", v.data_index, name="data"),
    path("data/datapackage.json", v.data_package, name="datapackage"),
    path("data/<slug:name>.<slug:fmt>", v.data_file, name="data_file"),
    path("feed.atom", v.feed, name="feed"),
    path("chain/", v.chain, name="chain"),
]
