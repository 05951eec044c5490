from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "rectify.evidence"
    label = "evidence"
    verbose_name = "佐证材料文件"
