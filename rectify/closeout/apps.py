from django.apps import AppConfig


class CloseoutConfig(AppConfig):
    name = "rectify.closeout"
    label = "closeout"
    verbose_name = "销号与回头看"

    def ready(self) -> None:
        from rectify.closeout import panels
        from rectify.core.numbers import register_document_kind

        register_document_kind("closeout_notice", "公", "整改情况公示")
        register_document_kind("closeout_filing", "销备", "销号备案")
        from rectify.ledger import hooks as ledger_hooks

        ledger_hooks.task_panels.register(panels.closeout_panel)
