"""The audit record viewer (审计记录) for the security auditor and the office administrator:
browse and filter events, see one event's before/after, verify the chain from the page in steps
(each step a short read-only request, polled by htmx), and the head to publish. Read-only."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from rectify.core import hooks
from rectify.core.audit import VerifyProgress, VerifyResult, chain_head, verify_step
from rectify.core.forms import ZhForm
from rectify.core.models import Event
from rectify.core.paging import list_page
from rectify.core.scope import reads_audit_record

STEP = 5000  # links per verification request: well under a second on either database
SALT = "rectify.audit.verify"
HEAD_RE = r"^\d{1,12}:[0-9a-f]{64}$"


class EventFilterForm(ZhForm):
    actor = forms.CharField(label=_("操作人"), max_length=50, required=False)
    action = forms.CharField(label=_("事件类型"), max_length=64, required=False,
                             widget=forms.TextInput(attrs={"placeholder": _("如 task_updated、login_failed")}))
    object_type = forms.CharField(label=_("对象类型"), max_length=64, required=False,
                                  widget=forms.TextInput(attrs={"placeholder": _("如 ledger.task")}))
    object_id = forms.CharField(label=_("对象编号"), max_length=64, required=False)
    date_from = forms.DateField(label=_("日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    success = forms.ChoiceField(label=_("结果"), required=False,
                                choices=[("", _("全部")), ("1", _("成功")), ("0", _("失败"))])


class HeadForm(ZhForm):
    head = forms.RegexField(label=_("已公布的链头（可选）"), regex=HEAD_RE, required=False, max_length=80,
                            help_text=_("格式：条数:哈希，如 1024:9f3c…（64 位十六进制）"),
                            error_messages={"invalid": _("链头格式应为 条数:64 位十六进制哈希")})


def _require_reader(user) -> None:
    if not reads_audit_record(user):
        raise Http404("无权查看审计记录")


def readable_events(user):
    """The record as this reader may browse it: higher apps hide what is confidential to them."""
    qs = Event.objects.visible_to(user)
    for hidden in hooks.audit_hidden(user=user):
        if hidden is not None:
            qs = qs.exclude(hidden)
    return qs


def filtered_events(user, form: EventFilterForm):
    qs = readable_events(user)
    d = form.cleaned_data if form.is_valid() else {}
    if d.get("actor"):
        qs = qs.filter(actor_name__icontains=d["actor"].strip())
    if d.get("action"):
        qs = qs.filter(action=d["action"].strip())
    if d.get("object_type"):
        qs = qs.filter(object_type=d["object_type"].strip())
    if d.get("object_id"):
        qs = qs.filter(object_id=d["object_id"].strip())
    tz = timezone.get_current_timezone()
    if d.get("date_from"):
        qs = qs.filter(created_at__gte=dt.datetime.combine(d["date_from"], dt.time.min, tzinfo=tz))
    if d.get("date_to"):
        qs = qs.filter(created_at__lt=dt.datetime.combine(d["date_to"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    if d.get("success") in ("0", "1"):
        qs = qs.filter(success=d["success"] == "1")
    return qs.order_by("-seq")


@login_required
@require_GET
def event_list(request):
    _require_reader(request.user)
    form = EventFilterForm(request.GET or None)
    page = list_page(request, filtered_events(request.user, form).defer("before", "after"), 50)
    query = request.GET.copy()
    query.pop("page", None)
    count, head = chain_head()
    return render(request, "core/audit_list.html", {"form": form, "page": page, "query": query.urlencode(),
                                                    "head_count": count, "head_hash": head})


@login_required
@require_GET
def event_detail(request, seq: int):
    _require_reader(request.user)
    event = readable_events(request.user).filter(seq=seq).first()
    if event is None:
        raise Http404("事件不存在")
    return render(request, "core/audit_event.html", {"event": event})


@login_required
@require_GET
def verify_page(request):
    _require_reader(request.user)
    count, head = chain_head()
    return render(request, "core/audit_verify.html", {"head_count": count, "head_hash": head, "form": HeadForm()})


def _dump(p: VerifyProgress, total: int) -> str:
    return signing.dumps({"i": p.last_id, "n": p.count, "h": p.prev_hash, "head": list(p.head) if p.head else None,
                          "seen": p.head_seen, "t": total, "v": p.key_version}, salt=SALT, compress=True)


@login_required
@require_GET
def verify_run(request):
    """One step of the verification: walk STEP links after the signed cursor and answer the page's
    progress fragment, which asks for the next step until the walk ends. Nothing is written."""
    _require_reader(request.user)
    cursor = request.GET.get("cursor", "")
    if cursor:
        try:
            c = signing.loads(cursor[:2000], salt=SALT, max_age=3600)
        except signing.BadSignature as exc:
            raise Http404("校验进度无效或已过期，请重新开始") from exc
        head = (int(c["head"][0]), str(c["head"][1])) if c["head"] else None
        progress = VerifyProgress(int(c["i"]), int(c["n"]), str(c["h"]), head, bool(c["seen"]),
                                  key_version=int(c.get("v", 1)))
        total = int(c["t"])
    else:
        form = HeadForm(request.GET)
        if not form.is_valid():
            return render(request, "core/_audit_progress.html", {"error": "；".join(form.errors.get("head", []))})
        head = None
        if form.cleaned_data.get("head"):
            n, h = form.cleaned_data["head"].split(":")
            head = (int(n), h)
        progress = VerifyProgress(head=head, head_seen=head is None)
        total = chain_head()[0]
    progress = verify_step(progress, limit=STEP)
    result: VerifyResult | None = progress.result
    percent = 100 if result else min(99, int(100 * progress.count / total) if total else 99)
    return render(request, "core/_audit_progress.html", {
        "result": result, "count": progress.count, "total": total, "percent": percent,
        "cursor": "" if result else _dump(progress, total)})
