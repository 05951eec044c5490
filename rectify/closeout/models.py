"""Close-out (销号) in five verified steps — 初审、公示、申请、核查、备案 — against the three
standards 生态修复、污染消除、群众满意, public objections during the notice (异议), and the
look-back (回头看) that reopens a closed task when the problem rebounds (反弹).

One ``Closeout`` is one attempt at closing one task; an attempt that fails goes back to
rectification (``returned``) and stays on record, and the next attempt is a new row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rectify.core.crypto import EncryptedTextField, register_lookup
from rectify.evidence.models import StoredFile
from rectify.ledger.models import Campaign, CloseoutStage, Task
from rectify.orgs.models import Unit


class Standard(models.TextChoices):
    """The plan's three standards for closing a problem (销号标准)."""

    ECOLOGY = "ecology", _("生态修复")
    POLLUTION = "pollution", _("污染消除")
    PUBLIC = "public", _("群众满意")


class Verifier(models.TextChoices):
    ACCEPTANCE = "acceptance", _("牵头验收单位（未指定时为牵头督导单位）")
    LEAD = "lead", _("牵头督导单位")
    OFFICE = "office", _("整改办")


class CloseoutStatus(models.TextChoices):
    SELF_ASSESSING = CloseoutStage.SELF_ASSESSING.value, CloseoutStage.SELF_ASSESSING.label
    APPLIED = CloseoutStage.APPLIED.value, CloseoutStage.APPLIED.label
    IN_NOTICE = CloseoutStage.IN_NOTICE.value, CloseoutStage.IN_NOTICE.label
    ACCEPTED = CloseoutStage.ACCEPTED.value, CloseoutStage.ACCEPTED.label
    VERIFIED = CloseoutStage.VERIFIED.value, CloseoutStage.VERIFIED.label
    FILED = CloseoutStage.FILED.value, CloseoutStage.FILED.label
    RETURNED = "returned", _("已退回整改")


OPEN_STATUSES = [s.value for s in CloseoutStatus if s not in (CloseoutStatus.FILED, CloseoutStatus.RETURNED)]


class PolicyQuerySet(models.QuerySet):
    def visible_to(self, user) -> PolicyQuerySet:
        from rectify.closeout.scope import visible_policies

        return visible_policies(self, user)


class CloseoutPolicy(models.Model):
    """How a campaign closes its tasks (配置): the notice period, on-site checks, who verifies."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="closeout_policy")
    notice_workdays = models.PositiveSmallIntegerField(_("公示期（工作日）"), default=5)
    onsite_required = models.BooleanField(_("核查须现场核查"), default=False)
    verifier = models.CharField(_("核查单位"), max_length=20, choices=Verifier.choices, default=Verifier.ACCEPTANCE)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("销号程序设置")
        verbose_name_plural = _("销号程序设置")
        constraints = [
            models.CheckConstraint(condition=Q(notice_workdays__gte=1, notice_workdays__lte=30),
                                   name="policy_notice_1_30"),
        ]


class CloseoutQuerySet(models.QuerySet):
    def visible_to(self, user) -> CloseoutQuerySet:
        from rectify.closeout.scope import visible_closeouts

        return visible_closeouts(self, user)

    def open(self) -> CloseoutQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Closeout(models.Model):
    """One attempt at closing one task (销号申请)."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="closeouts")
    attempt = models.PositiveSmallIntegerField(_("第几次申请"), default=1)
    status = models.CharField(_("状态"), max_length=20, choices=CloseoutStatus.choices,
                              default=CloseoutStatus.SELF_ASSESSING)
    version = models.PositiveIntegerField(default=1)
    completion_summary = models.TextField(_("整改完成情况"), blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    started_at = models.DateTimeField(_("发起时间"))
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("申请人"))
    applied_at = models.DateTimeField(_("初审申请时间"), null=True, blank=True)
    # The campaign's rules as they stood when this attempt started: a later change of policy does
    # not change who verifies an attempt already under way, and documents state the rule applied.
    onsite_required = models.BooleanField(_("须现场核查"), default=False)
    verifier = models.CharField(_("核查单位"), max_length=20, choices=Verifier.choices, default=Verifier.ACCEPTANCE)
    notice_workdays = models.PositiveSmallIntegerField(_("公示期（工作日）"), null=True, blank=True)
    notice_start = models.DateField(_("公示开始"), null=True, blank=True)
    notice_end = models.DateField(_("公示截止"), null=True, blank=True)
    notice_number = models.CharField(_("公示文号"), max_length=60, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    accepted_at = models.DateTimeField(_("申请受理时间"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    verified_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    verification_opinion = models.TextField(_("核查意见"), blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    filed_at = models.DateTimeField(_("备案时间"), null=True, blank=True)
    filing_number = models.CharField(_("备案编号"), max_length=60, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    returned_from = models.CharField(_("退回时所处阶段"), max_length=20, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)

    objects = CloseoutQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("销号申请")
        verbose_name_plural = _("销号申请")
        constraints = [
            # a task has at most one close-out under way; filed and returned attempts stay on record
            models.UniqueConstraint(fields=["task"], condition=Q(status__in=OPEN_STATUSES),
                                    name="closeout_one_open_per_task"),
            models.UniqueConstraint(fields=["task", "attempt"], name="closeout_attempt_unique"),
            # a number is issued once (公示文号, 备案编号)
            models.UniqueConstraint(fields=["notice_number"], condition=~Q(notice_number=""),
                                    name="closeout_notice_number_unique"),
            models.UniqueConstraint(fields=["filing_number"], condition=~Q(filing_number=""),
                                    name="closeout_filing_number_unique"),
        ]
        indexes = [
            # the close-out list by stage; notices whose period ended (tick)
            models.Index(fields=["status", "notice_end"], name="closeout_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task.code} 销号申请（第 {self.attempt} 次）"


class Verdict(models.TextChoices):
    MET = "met", _("达到")
    NOT_APPLICABLE = "na", _("不适用")


class SelfAssessment(models.Model):
    """One responsible unit's self-assessment (初审自评) against the three standards."""

    closeout = models.ForeignKey(Closeout, on_delete=models.CASCADE, related_name="assessments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位"))
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    assessed_at = models.DateTimeField(_("自评时间"))
    completion_summary = models.TextField(_("本单位整改完成情况"), blank=True)

    class Meta:
        ordering = ["closeout_id", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["closeout", "unit"], name="assessment_one_per_unit")]


class AssessmentItem(models.Model):
    assessment = models.ForeignKey(SelfAssessment, on_delete=models.CASCADE, related_name="items")
    standard = models.CharField(_("销号标准"), max_length=20, choices=Standard.choices)
    verdict = models.CharField(_("自评结论"), max_length=10, choices=Verdict.choices)
    statement = models.TextField(_("说明"))

    class Meta:
        ordering = ["assessment_id", "standard"]
        constraints = [models.UniqueConstraint(fields=["assessment", "standard"], name="assessment_item_unique")]


class CheckRecord(models.Model):
    """核查记录: the verifying unit's check of one standard."""

    closeout = models.ForeignKey(Closeout, on_delete=models.CASCADE, related_name="checks")
    standard = models.CharField(_("销号标准"), max_length=20, choices=Standard.choices)
    finding = models.TextField(_("核查情况"))
    onsite = models.BooleanField(_("现场核查"), default=False)
    checked_on = models.DateField(_("核查日期"))
    checkers = models.CharField(_("核查人员"), max_length=200)
    passed = models.BooleanField(_("符合销号标准"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["closeout_id", "standard"]
        constraints = [models.UniqueConstraint(fields=["closeout", "standard"], name="check_one_per_standard")]


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


class ObjectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> ObjectionQuerySet:
        from rectify.closeout.scope import visible_objections

        return visible_objections(self, user)


class Objection(models.Model):
    """异议: public feedback on a close-out notice. Contact details are personal data: SM4 at rest,
    shown in full to the office only, masked elsewhere, never to the unit concerned."""

    closeout = models.ForeignKey(Closeout, on_delete=models.PROTECT, related_name="objections")
    receipt = models.CharField(_("回执编号"), max_length=20, unique=True)
    content = models.TextField(_("异议内容"))
    contact_name = EncryptedTextField(_("联系人"), blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    channel = models.CharField(_("来源"), max_length=20, default="portal")
    submitted_at = models.DateTimeField(_("提交时间"))
    status = models.CharField(_("状态"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    objects = ObjectionQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        indexes = [
            # "unanswered objections block 申请": open ones of a close-out
            models.Index(fields=["closeout", "status"], name="objection_open_idx"),
        ]


register_lookup("closeout.objection", "phone_hash", "contact_phone", "objection.phone")  # recomputed at key rotation


class LookBackQuerySet(models.QuerySet):
    def visible_to(self, user) -> LookBackQuerySet:
        from rectify.closeout.scope import visible_lookbacks

        return visible_lookbacks(self, user)


class LookBack(models.Model):
    """回头看: a re-check of closed tasks of a campaign, drawn at random (seed recorded) and by hand or rule."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="lookbacks")
    title = models.CharField(_("名称"), max_length=100)
    share_percent = models.PositiveSmallIntegerField(_("随机抽取比例（%）"), default=20)
    seed = models.CharField(_("随机种子"), max_length=64)
    pool_size = models.PositiveIntegerField(_("抽样范围（已销号任务数）"), default=0)
    pool_digest = models.CharField(_("抽样范围摘要（SM3）"), max_length=64, blank=True)
    rule = models.JSONField(_("按规则选取"), default=dict, blank=True)
    due_date = models.DateField(_("完成时限"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()

    objects = LookBackQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("回头看")
        verbose_name_plural = _("回头看")

    def __str__(self) -> str:
        return self.title


class Pick(models.TextChoices):
    RANDOM = "random", _("随机抽取")
    RULE = "rule", _("按规则选取")
    MANUAL = "manual", _("人工指定")


class CheckResult(models.TextChoices):
    PENDING = "pending", _("待复查")
    HOLDING = "holding", _("巩固")
    REBOUND = "rebound", _("反弹")


class LookBackCheckQuerySet(models.QuerySet):
    def visible_to(self, user) -> LookBackCheckQuerySet:
        from rectify.closeout.scope import visible_lookback_checks

        return visible_lookback_checks(self, user)


class LookBackCheck(models.Model):
    """One sampled task's re-check, assigned to a unit with a due date."""

    lookback = models.ForeignKey(LookBack, on_delete=models.CASCADE, related_name="checks")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="lookback_checks")
    picked_by = models.CharField(_("选取方式"), max_length=10, choices=Pick.choices)
    assigned_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("复查单位"))
    due_date = models.DateField(_("复查时限"))
    result = models.CharField(_("复查结论"), max_length=10, choices=CheckResult.choices, default=CheckResult.PENDING)
    statement = models.TextField(_("复查情况"), blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    checked_at = models.DateTimeField(_("复查时间"), null=True, blank=True)
    new_deadline = models.DateField(_("重新整改时限"), null=True, blank=True)
    reopened = models.BooleanField(_("已重新打开任务"), default=False)
    accountability_proposed = models.BooleanField(_("已提出追责建议"), default=False)

    objects = LookBackCheckQuerySet.as_manager()

    class Meta:
        ordering = ["lookback_id", "task_id"]
        verbose_name = _("回头看复查")
        verbose_name_plural = _("回头看复查")
        constraints = [models.UniqueConstraint(fields=["lookback", "task"], name="lookback_task_unique")]
        indexes = [
            # a unit's pending re-checks (its landing page, reminders)
            models.Index(fields=["assigned_unit", "result"], name="lookback_check_unit_idx"),
        ]


class FileStage(models.TextChoices):
    ASSESSMENT = "assessment", _("初审自评佐证")
    CHECK = "check", _("核查佐证")


class CloseoutFileQuerySet(models.QuerySet):
    def visible_to(self, user) -> CloseoutFileQuerySet:
        from rectify.closeout.scope import visible_closeout_files

        return visible_closeout_files(self, user)


class CloseoutFile(StoredFile):
    """Evidence of a self-assessment or a check, per standard (佐证材料)."""

    closeout = models.ForeignKey(Closeout, on_delete=models.CASCADE, related_name="files")
    stage = models.CharField(_("环节"), max_length=20, choices=FileStage.choices)
    standard = models.CharField(_("销号标准"), max_length=20, choices=Standard.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = CloseoutFileQuerySet.as_manager()

    class Meta:
        ordering = ["closeout_id", "stage", "standard", "uploaded_at", "id"]
        verbose_name = _("销号佐证材料")
        verbose_name_plural = _("销号佐证材料")


class LookBackFileQuerySet(models.QuerySet):
    def visible_to(self, user) -> LookBackFileQuerySet:
        from rectify.closeout.scope import visible_lookback_files

        return visible_lookback_files(self, user)


class LookBackFile(StoredFile):
    """Evidence of a look-back check (回头看佐证)."""

    lookback_check = models.ForeignKey(LookBackCheck, on_delete=models.CASCADE, related_name="files")

    objects = LookBackFileQuerySet.as_manager()

    class Meta:
        ordering = ["lookback_check_id", "uploaded_at", "id"]
        verbose_name = _("回头看佐证材料")
        verbose_name_plural = _("回头看佐证材料")
