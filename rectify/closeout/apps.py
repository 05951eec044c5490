from django.apps import AppConfig


class CloseoutConfig(AppConfig):
    name = "rectify.closeout"
    label = "closeout"
    verbose_name = "销号与回头看"

    def ready(self) -> None:
        from rectify.closeout import panels
        from rectify.ledger import hooks as ledger_hooks

        ledger_hooks.task_panels.register(panels.closeout_panel)
