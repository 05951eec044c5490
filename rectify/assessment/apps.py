from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "rectify.assessment"
    label = "assessment"
    verbose_name = "帮扶、督导与考核"

    def ready(self) -> None:
        from rectify.assessment import panels
        from rectify.assessment.services import RESULT_KIND
        from rectify.core.numbers import register_document_kind
        from rectify.dispatch import hooks as dispatch_hooks
        from rectify.documents import hooks as documents_hooks

        register_document_kind(RESULT_KIND, "考", "综合评估考核结果通报")
        dispatch_hooks.round_panels.register(panels.round_help_panel)
        dispatch_hooks.report_panels.register(panels.report_help_panel)
        documents_hooks.bulletin_sections.register(panels.bulletin_help_section)
