"""Background work a person started (后台任务): one ``Job`` per request for a report, a dossier or an
import, run outside the request by a worker (``rectify worker``, or the one ``rectify serve`` starts).

The Job is this app's record of the work — who asked, for what (``params``: the scope and choices
the kind needs), how it ended and where its result file is. The queue itself is django-tasks'
(``django_tasks_db.DBTaskResult``); the Job names the queue entry of its latest attempt.
Progress lives beside the result in a small file (``runner.progress_path``), not in the database,
so that a job whose own work holds SQLite's write lock (an import commits in one transaction) can
still be followed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.jobs import scope
from rectify.orgs.models import User


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class JobQuerySet(models.QuerySet):
    def visible_to(self, user) -> JobQuerySet:
        return scope.jobs_visible_to(self, user)


class Job(models.Model):
    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("名称"), max_length=200)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("发起人"))
    params = models.JSONField(_("参数"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempt = models.PositiveIntegerField(_("第几次运行"), default=0)
    task_id = models.CharField(max_length=64, blank=True)  # the django-tasks queue entry of the latest attempt
    result_path = models.CharField(max_length=300, blank=True)  # relative to settings.JOBS_DIR
    result_name = models.CharField(_("结果文件"), max_length=200, blank=True)
    result_size = models.BigIntegerField(default=0)
    result_sm3 = models.CharField(max_length=64, blank=True)
    summary = models.TextField(_("结果"), blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("后台任务")
        indexes = [models.Index(fields=["owner", "-id"], name="job_owner_idx")]  # "my jobs", newest first

    def __str__(self) -> str:
        return f"{self.title}（{self.get_status_display()}）"
