from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "rectify.disclosure"
    label = "disclosure"
    verbose_name = "信息公开"

    def ready(self) -> None:
        from rectify.closeout import hooks as closeout_hooks
        from rectify.disclosure import panels, scope, workflows  # noqa: F401  (workflows registers its tables)
        from rectify.ledger import hooks as ledger_hooks

        ledger_hooks.task_panels.register(panels.disclosure_panel)
        closeout_hooks.public_notices.register(scope.public_notice_q)
