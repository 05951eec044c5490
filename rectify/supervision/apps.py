from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "rectify.supervision"
    label = "supervision"
    verbose_name = "督办"

    def ready(self) -> None:
        from rectify.dispatch import hooks as dispatch_hooks
        from rectify.ledger import hooks as ledger_hooks
        from rectify.supervision import panels, services

        dispatch_hooks.report_accepted.register(services.on_report_accepted)
        dispatch_hooks.round_closed.register(services.on_round_closed)
        ledger_hooks.tasks_saved.register(services.on_tasks_saved)
        ledger_hooks.new_task_status.register(services.status_of_new_task)
        ledger_hooks.task_panels.register(panels.escalation_panel)
        ledger_hooks.timeline_hidden.register(panels.hidden_escalation_events)
