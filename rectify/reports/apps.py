from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "rectify.reports"
    label = "reports"
    verbose_name = "整改报告与一案一档"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from rectify.dashboard import hooks as dashboard_hooks
        from rectify.ledger import hooks as ledger_hooks
        from rectify.planparse import hooks as planparse_hooks
        from rectify.reports import panels
        from rectify.reports.jobs import register_kinds

        register_kinds()
        ledger_hooks.task_panels.register(panels.dossier_panel)
        dashboard_hooks.board_panels.register(panels.board_countdown_panel)
        planparse_hooks.preview_panels.register(panels.plan_deadlines_panel)
