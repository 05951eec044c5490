from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "rectify.ledger"
    label = "ledger"
    verbose_name = "整改台账"

    def ready(self):
        from rectify.ledger.jobs import register_kinds

        register_kinds()
