"""Who works with reports and dossiers (整改落实情况报告、一案一档).

| who | sees / acts |
| --- | --- |
| office staff and admins (整改办) | the campaigns their tree runs: the report settings, the narrative, generating the 6-month report, dossiers of those campaigns' tasks |
| everyone else | nothing here (units read their own tasks in the ledger; inspectors receive the files from the office) |
"""

from __future__ import annotations

from typing import Any

from rectify.ledger.models import Campaign, Task
from rectify.ledger.scope import can_create_tasks


def reporting_campaigns(user: Any):
    if not can_create_tasks(user):
        return Campaign.objects.none()
    return Campaign.objects.actionable_by(user, "add_task")


def reports_visible_to(qs, user):
    return qs.filter(campaign__in=reporting_campaigns(user).values("pk"))


def dossier_tasks(user: Any):
    """Tasks whose dossier this user may export: those of the campaigns the office runs."""
    return Task.objects.visible_to(user).filter(campaign__in=reporting_campaigns(user).values("pk"))


def runs_reports(user: Any, campaign: Any) -> bool:
    return reporting_campaigns(user).filter(pk=campaign.pk).exists()
