from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "rectify.dispatch"
    label = "dispatch"
    verbose_name = "调度报送"

    def ready(self) -> None:
        from rectify.dispatch import panels
        from rectify.ledger import hooks as ledger_hooks

        ledger_hooks.task_panels.register(panels.report_panel)
        ledger_hooks.timeline_hidden.register(panels.hidden_report_events)
