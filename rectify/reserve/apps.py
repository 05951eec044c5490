from django.apps import AppConfig


class ReserveConfig(AppConfig):
    name = "rectify.reserve"
    label = "reserve"
    verbose_name = "生态环保项目储备库"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from rectify.dashboard import hooks as dashboard_hooks
        from rectify.dispatch import hooks as dispatch_hooks
        from rectify.reserve import panels, workflows  # noqa: F401  (workflows registers the stage table)

        dashboard_hooks.board_panels.register(panels.board_reserve_panel)
        dispatch_hooks.round_panels.register(panels.round_reserve_panel)
