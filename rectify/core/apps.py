from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    tables = set(connections[using].introspection.table_names())
    if {"core_event", "core_chainhead", "core_calendaryear", "core_calendarday"} <= tables:
        from rectify.core.workdays import record_migration_seed

        record_migration_seed()


class CoreConfig(AppConfig):
    name = "rectify.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        # The calendar seed of the data migration goes on the audit record once (system actor).
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="rectify.core.calendar_seed")
