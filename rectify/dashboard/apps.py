from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "rectify.dashboard"
    label = "dashboard"
    verbose_name = "挂图作战"

    def ready(self) -> None:
        from rectify.dashboard import facts, panels, workflows  # noqa: F401  (workflows registers its tables)
        from rectify.ledger import hooks as ledger_hooks

        ledger_hooks.task_panels.register(panels.instruction_panel)
        ledger_hooks.bulk_task_units.register(facts.task_units_in_bulk)
