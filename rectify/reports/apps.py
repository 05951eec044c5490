from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "rectify.reports"
    label = "reports"
    verbose_name = "整改报告与一案一档"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from rectify.reports.jobs import register_kinds

        register_kinds()
