from django.apps import AppConfig


class ReserveConfig(AppConfig):
    name = "rectify.reserve"
    label = "reserve"
    verbose_name = "生态环保项目储备库"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from rectify.reserve import workflows  # noqa: F401  (registers the stage table)
