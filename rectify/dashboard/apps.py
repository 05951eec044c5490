from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "rectify.dashboard"
    label = "dashboard"
    verbose_name = "挂图作战"

    def ready(self) -> None:
        from rectify.dashboard import panels, workflows  # noqa: F401  (workflows registers its tables)
        from rectify.ledger import hooks as ledger_hooks

        ledger_hooks.task_panels.register(panels.instruction_panel)
