from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "rectify.orgs"
    label = "orgs"
    verbose_name = "组织与用户"

    def ready(self):
        from rectify.orgs import signals  # noqa: F401  login/logout audit
