from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "rectify.accountability"
    label = "accountability"
    verbose_name = "追责问责"

    def ready(self) -> None:
        from rectify.accountability import figures, panels, services
        from rectify.closeout import hooks as closeout_hooks
        from rectify.core import hooks as core_hooks
        from rectify.core.numbers import register_document_kind
        from rectify.documents import hooks as documents_hooks
        from rectify.ledger import hooks as ledger_hooks
        from rectify.supervision import hooks as supervision_hooks

        register_document_kind(services.REFERRAL_KIND, "移", "问题线索移交函")
        closeout_hooks.rebound_found.register(services.on_rebound)
        closeout_hooks.verification_failed.register(services.on_verification_failed)
        supervision_hooks.escalation_issued.register(services.on_escalation)
        ledger_hooks.task_panels.register(panels.case_panel)
        ledger_hooks.timeline_hidden.register(panels.hidden_accountability_events)
        core_hooks.audit_hidden.register(panels.hidden_audit_events)
        documents_hooks.bulletin_sections.register(figures.bulletin_section)
