"""Accountability (追责问责): cases of superficial, perfunctory or false rectification, false
reporting and failure to rectify, investigated by the lead supervising unit, reviewed by the office
and referred (移交) to the discipline commission (纪委监委), which records the outcome.

A case is confidential: who may see it is decided in ``scope.py`` alone, and nothing here is ever
written onto a task (a case never closes, pauses or replaces the task's rectification).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rectify.core.crypto import EncryptedTextField, register_lookup
from rectify.evidence.models import StoredFile
from rectify.ledger.models import Task
from rectify.orgs.models import Unit


class CaseKind(models.TextChoices):
    SUPERFICIAL = "superficial", _("表面整改")
    PERFUNCTORY = "perfunctory", _("敷衍整改")
    FALSE_RECTIFICATION = "false_rectification", _("虚假整改")
    FALSE_REPORT = "false_report", _("谎报虚报瞒报")
    OVERDUE = "overdue", _("逾期未完成")
    NEGLIGENCE = "negligence", _("责任不落实")
    POOR_RESULTS = "poor_results", _("整改成效差")
    OTHER = "other", _("其他")


class CaseSource(models.TextChoices):
    """Where a case (or one of its leads) came from (线索来源)."""

    OFFICE = "office", _("整改办立案")
    LEAD_UNIT = "lead_unit", _("牵头督导单位立案")
    REBOUND = "rebound", _("回头看发现反弹")
    LISTED = "listed", _("挂牌督办")
    INTERVIEW = "interview", _("约谈")
    VERIFY_FAILED = "verify_failed", _("销号核查发现整改不实")


class CaseStatus(models.TextChoices):
    PROPOSED = "proposed", _("追责建议（待立案）")
    OPENED = "opened", _("已立案（待调查）")
    INVESTIGATING = "investigating", _("调查中")
    REPORTED = "reported", _("追责建议报告待审核")
    REVIEWED = "reviewed", _("已审核（待移交）")
    REFERRED = "referred", _("已移交（待受理）")
    ACCEPTED = "accepted", _("纪委监委办理中")
    DECIDED = "decided", _("已作出处理")
    CLOSED = "closed", _("已结案")
    DECLINED = "declined", _("不予立案")
    NOT_REFERRED = "not_referred", _("不予移交")


# The lead unit sees a case only while it investigates (立案后、提交报告前).
INVESTIGATION_STATES = (CaseStatus.OPENED, CaseStatus.INVESTIGATING)
FINISHED_STATES = (CaseStatus.CLOSED, CaseStatus.DECLINED, CaseStatus.NOT_REFERRED)
OPEN_STATES = tuple(s for s in CaseStatus if s not in FINISHED_STATES)
# Persons, tasks and facts may change until the investigation is reported.
EDITABLE_STATES = (CaseStatus.PROPOSED, CaseStatus.OPENED, CaseStatus.INVESTIGATING)


class Outcome(models.TextChoices):
    """The commission's handling (处理结果) of a case or of one person concerned."""

    ADMONISHMENT = "admonishment", _("诫勉谈话")
    CRITICISM = "criticism", _("通报批评")
    SANCTION = "sanction", _("党纪政务处分")
    ORGANISATIONAL = "organisational", _("组织处理")
    OTHER = "other", _("其他处理")
    NONE = "none", _("不予追责")


class CaseHandler(models.Model):
    """An office user designated to handle accountability cases (案件承办人).

    Being in the office is not enough to see a case: an office administrator designates handlers
    (never themselves), and the designation and its removal are in the record.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_handler")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("案件承办人")
        verbose_name_plural = _("案件承办人")


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        from rectify.accountability.scope import visible_cases

        return visible_cases(self, user)

    def open(self) -> CaseQuerySet:
        return self.filter(status__in=OPEN_STATES)


class AccountabilityCase(models.Model):
    """One accountability case (追责问责案件), from the proposal to the commission's outcome."""

    number = models.CharField(_("案件编号"), max_length=30, unique=True)
    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("整改办"))
    kind = models.CharField(_("问题类型"), max_length=30, choices=CaseKind.choices)
    source = models.CharField(_("线索来源"), max_length=20, choices=CaseSource.choices)
    title = models.CharField(_("案由"), max_length=200)
    facts = models.TextField(_("问题线索"), blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.PROPOSED)
    version = models.PositiveIntegerField(default=1)
    lead_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("牵头调查单位"))
    investigation_due = models.DateField(_("调查时限"), null=True, blank=True)
    findings = models.TextField(_("调查认定的事实"), blank=True)
    recommendation = models.TextField(_("追责问责建议"), blank=True)
    report_submitted_at = models.DateTimeField(_("报告提交时间"), null=True, blank=True)
    review_opinion = models.TextField(_("审核意见"), blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    commission = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("移交纪委监委"))
    referral_number = models.CharField(_("移交编号"), max_length=60, blank=True)
    referral_note = models.TextField(_("移交说明"), blank=True)
    referred_at = models.DateTimeField(_("移交时间"), null=True, blank=True)
    commission_ref = models.CharField(_("纪委监委受理编号"), max_length=60, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    handling_due = models.DateField(_("办理时限"), null=True, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_detail = models.TextField(_("处理情况"), blank=True)
    outcome_reason = models.TextField(_("不予追责理由"), blank=True)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    refusal_reason = models.TextField(_("不予立案或不予移交理由"), blank=True)
    returned_reason = models.TextField(_("最近一次退回理由"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("提出时间"))
    opened_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    tasks: models.ManyToManyField[Task, CaseTask] = models.ManyToManyField(
        Task, through="CaseTask", related_name="+", verbose_name=_("关联任务"))
    units: models.ManyToManyField[Unit, CaseUnit] = models.ManyToManyField(
        Unit, through="CaseUnit", related_name="+", verbose_name=_("涉及单位"))

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("追责问责案件")
        verbose_name_plural = _("追责问责案件")
        constraints = [
            models.UniqueConstraint(fields=["referral_number"], condition=~Q(referral_number=""),
                                    name="case_referral_number_unique"),
        ]
        indexes = [
            # the workspace tabs: a handler's cases by status; the commission's by status and deadline
            models.Index(fields=["office", "status"], name="case_office_status_idx"),
            models.Index(fields=["commission", "status", "handling_due"], name="case_commission_idx"),
            models.Index(fields=["lead_unit", "status"], name="case_lead_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def deadline(self):
        """The date that matters now: the investigation's while it runs, the commission's after."""
        if self.status in (CaseStatus.ACCEPTED, CaseStatus.DECIDED):
            return self.handling_due
        if self.status in INVESTIGATION_STATES:
            return self.investigation_due
        return None


class CaseTask(models.Model):
    """A task the case concerns. The link is read-only for the task: nothing here changes it."""

    case = models.ForeignKey(AccountabilityCase, on_delete=models.CASCADE, related_name="task_links")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["case_id", "task_id"]
        constraints = [models.UniqueConstraint(fields=["case", "task"], name="case_task_unique")]


class CaseUnit(models.Model):
    """A unit the case concerns (涉及单位): it and its people never see the case."""

    case = models.ForeignKey(AccountabilityCase, on_delete=models.CASCADE, related_name="unit_links")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["case_id", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="case_unit_unique")]
        indexes = [
            # "is this user's unit concerned by the case" in the visibility filter
            models.Index(fields=["unit", "case"], name="case_unit_unit_idx"),
        ]


class CaseLead(models.Model):
    """One lead (线索) of a case: how it was proposed, and each later trigger on the same task."""

    case = models.ForeignKey(AccountabilityCase, on_delete=models.CASCADE, related_name="leads")
    source = models.CharField(_("线索来源"), max_length=20, choices=CaseSource.choices)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    summary = models.TextField(_("线索内容"))
    # An automatic proposal carries a key ("rebound:<check>") so that it is recorded once.
    key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class PersonConcerned(models.Model):
    """A person concerned (涉及人员): name and post are personal data, SM4-encrypted at rest and
    masked in every list."""

    case = models.ForeignKey(AccountabilityCase, on_delete=models.CASCADE, related_name="persons")
    name = EncryptedTextField(_("姓名"))
    post = EncryptedTextField(_("职务"), blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在单位"))
    name_hash = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(_("处理结果"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("处理情况"), blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "id"]
        verbose_name = _("涉及人员")
        verbose_name_plural = _("涉及人员")


register_lookup("accountability.personconcerned", "name_hash", "name", "accountability.person.name")  # key rotation


class NoteKind(models.TextChoices):
    INVESTIGATION = "investigation", _("调查记录")
    HANDLING = "handling", _("办理情况")
    OFFICE = "office", _("工作记录")


class CaseNote(models.Model):
    """A dated record of the investigation or of the commission's handling."""

    case = models.ForeignKey(AccountabilityCase, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("类别"), max_length=20, choices=NoteKind.choices)
    text = models.TextField(_("内容"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    author_unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class FileKind(models.TextChoices):
    EVIDENCE = "evidence", _("调查证据")
    REPORT = "report", _("追责建议报告")
    HANDLING = "handling", _("办理材料")


class CaseFileQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseFileQuerySet:
        from rectify.accountability.scope import visible_case_files

        return visible_case_files(self, user)


class CaseFile(StoredFile):
    """Evidence of the investigation, the submitted 追责建议报告 (frozen with its digest), the
    commission's handling papers."""

    case = models.ForeignKey(AccountabilityCase, on_delete=models.CASCADE, related_name="files")
    file_kind = models.CharField(_("类别"), max_length=20, choices=FileKind.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = CaseFileQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "uploaded_at", "id"]
        verbose_name = _("案件材料")
        verbose_name_plural = _("案件材料")
