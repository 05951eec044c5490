"""Plan upload → preview (editable) → import. Nothing reaches the ledger before the confirmation.

The parsed draft waits in the upload stash (``core.stash``, kind ``plans``) under a random token
that works only in its owner's session; the last five drafts of a session are kept."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from rectify.closeout.services import policy_for
from rectify.core.forms import ZhForm
from rectify.core.ratelimit import throttled
from rectify.core.sm3 import sm3_hex
from rectify.core.stash import Stash
from rectify.indicators.models import Indicator
from rectify.ledger.models import Campaign, DeadlineKind
from rectify.ledger.scope import can_create_tasks
from rectify.orgs.models import Category, Unit
from rectify.planparse import PlanParseError, parse_plan
from rectify.planparse.mechanisms import describe_mechanism
from rectify.planparse.parser import encoding_hint
from rectify.planparse.procedure import compare_procedure
from rectify.planparse.services import MeasureProposal, TargetProposal, active_units, import_plan, match_units

MAX_PLAN_BYTES = 10 * 1024 * 1024
DRAFTS = Stash("plans", suffix=".json", keep=5)
IMPORTED_KEY = "plans_imported"  # token → {"name", "campaign"} of the drafts this session imported


class PlanUploadForm(ZhForm):
    campaign = forms.ModelChoiceField(label=_("导入到整改批次"), queryset=Campaign.objects.none())
    file = forms.FileField(label=_("整改方案文件（.docx 或 .txt）"), required=False)
    text = forms.CharField(label=_("或直接粘贴方案全文"), required=False, widget=forms.Textarea(attrs={"rows": 8}))

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("text") or "").strip():
            raise ValidationError(_("请上传方案文件，或粘贴方案全文。"))
        return data


def _campaigns(user):
    return Campaign.objects.actionable_by(user, "add_task")


def _require_office(user):
    if not can_create_tasks(user):
        raise PermissionDenied(_("只有整改办可以导入整改方案。"))


@login_required
@throttled("plan")
def plan_upload(request):
    _require_office(request.user)
    campaigns = _campaigns(request.user)
    form = PlanUploadForm(request.POST or None, request.FILES or None, initial={"campaign": campaigns.first()})
    form.fields["campaign"].queryset = campaigns
    form.fields["campaign"].empty_label = _("请选择整改批次")
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        if upload is not None:
            if upload.size > MAX_PLAN_BYTES:
                form.add_error("file", _("文件超过 10 MB，不像是一份整改方案，请检查。"))
                return render(request, "planparse/upload.html", {"form": form})
            raw, name = upload.read(), upload.name
        else:
            raw, name = form.cleaned_data["text"].encode("utf-8"), "粘贴文本.txt"
        try:
            parsed = parse_plan(raw if upload is not None else form.cleaned_data["text"], filename=name)
        except PlanParseError as exc:
            form.add_error(None, str(exc))
            return render(request, "planparse/upload.html", {"form": form})
        draft = {"name": name, "digest": sm3_hex(raw), "campaign": form.cleaned_data["campaign"].pk,
                 "parse": parsed.to_dict()}
        token = DRAFTS.put(request, draft)
        return redirect("planparse:preview", token=token)
    return render(request, "planparse/upload.html", {"form": form})


def _load(request, token: str) -> dict:
    try:
        return DRAFTS.get(request, token).read_json()
    except Http404:
        raise Http404(_("预览已失效，请重新上传方案。")) from None


def _rows(draft: dict) -> list[dict]:
    rows = []
    active = active_units()  # once for all measures
    for i, m in enumerate(draft["parse"]["measures"]):
        stated = m.get("units") or []
        suggested = [s["unit"] for s in m.get("suggested_units") or []]
        units = match_units(stated or suggested, active)
        deadline = m.get("deadline") or {}
        rows.append({
            "i": i, "path": m["path"], "title": m["title"], "text": m["text"],
            "items": [it.get("text", "") if isinstance(it, dict) else str(it) for it in m.get("items") or []],
            "category": (m.get("suggested_category") or {}).get("code") or Category.OTHER,
            "category_from": "建议" if m.get("suggested_category") else "",
            "units": [u.pk for u in units], "unit_names": [u.name for u in units], "units_stated": bool(stated),
            "deadline_kind": deadline.get("kind", "") if isinstance(deadline, dict) else "",
            "deadline": deadline.get("date", "") if isinstance(deadline, dict) else "",
        })
    return rows


@login_required
def plan_preview(request, token: str):
    _require_office(request.user)
    imported = request.session.get(IMPORTED_KEY) or {}
    if token in imported:
        # The same confirm sent again (a second click, or back and 确认导入 again).
        messages.info(request, _("该文件已导入（「%(name)s」），未重复导入。") % {"name": imported[token]["name"]})
        return redirect(f"/ledger/?campaign={imported[token]['campaign']}&status=draft")
    draft = _load(request, token)
    campaign = _campaigns(request.user).filter(pk=draft["campaign"]).first()
    if campaign is None:
        raise Http404
    rows = _rows(draft)
    errors: list[str] = []
    if request.method == "POST":
        try:
            measures, targets = _proposals(request.POST, rows, draft)
            result = import_plan(actor=request.user, campaign=campaign, measures=measures, targets=targets,
                                 document_name=draft["name"], document_digest=draft["digest"])
        except ValidationError as exc:
            errors = exc.messages
        else:
            DRAFTS.discard(request, token)
            # Remember the last few imported drafts of this session, so a resubmit is told so.
            done = dict(list((request.session.get(IMPORTED_KEY) or {}).items())[-4:])
            done[token] = {"name": draft["name"][:200], "campaign": campaign.pk}
            request.session[IMPORTED_KEY] = done
            messages.success(request, _("已导入 %(tasks)s 项任务草稿、%(indicators)s 项目标指标。"
                                        "任务须补全问题描述等“四清楚”内容后才会转为整改中。")
                             % {"tasks": len(result["tasks"]), "indicators": len(result["indicators"])})
            if result["indicators"]:
                # Each imported indicator links to its page, where its values are entered.
                messages.info(request, format_html("{}{}", _("导入的目标指标："), format_html_join(
                    "、", '<a href="{}">{}</a>',
                    ((reverse("indicators:detail", args=[i.pk]), i.name) for i in result["indicators"]))))
            return redirect(f"/ledger/?campaign={campaign.pk}&status=draft")
    units = list(Unit.objects.filter(is_active=True).order_by("kind", "sort_order", "id"))
    return render(request, "planparse/preview.html", {
        "draft": draft, "parse": draft["parse"], "rows": rows, "campaign": campaign, "units": units,
        "categories": Category.choices, "deadline_kinds": DeadlineKind.choices, "errors": errors,
        "targets": _targets_with_links(request.user, campaign, draft["parse"]["targets"]), "token": token,
        "mechanisms": [describe_mechanism(m) for m in draft["parse"]["mechanisms"]],
        "empty_hint": encoding_hint(draft["parse"].get("source") or {}) if not rows and not draft["parse"]["targets"]
        else None,
        "procedure": _procedure(draft, campaign), "policy_url": reverse("closeout:policy", args=[campaign.pk])})


def _targets_with_links(user, campaign: Campaign, targets: list[dict]) -> list[dict]:
    """Each proposed target, with the id of the campaign's indicator of that name when one exists."""
    names = {t["indicator"][:100] for t in targets}
    existing = dict(Indicator.objects.visible_to(user).filter(campaign=campaign, name__in=names)
                    .values_list("name", "pk")) if names else {}
    return [{**t, "existing": existing.get(t["indicator"][:100])} for t in targets]


def _procedure(draft: dict, campaign: Campaign) -> dict:
    """销号程序比对: the plan's close-out steps, standards and periods against the campaign's policy."""
    policy = policy_for(campaign)
    return compare_procedure(draft["parse"], notice_workdays=policy.notice_workdays,
                             onsite_required=policy.onsite_required, verifier=policy.verifier,
                             verifier_label=policy.get_verifier_display())


def _proposals(post, rows: list[dict], draft: dict) -> tuple[list[MeasureProposal], list[TargetProposal]]:
    units = {u.pk: u for u in Unit.objects.filter(is_active=True)}
    measures: list[MeasureProposal] = []
    for row in rows:
        i = row["i"]
        if not post.get(f"m{i}-keep"):
            continue
        deadline = None
        if post.get(f"m{i}-deadline"):
            try:
                deadline = dt.date.fromisoformat(post[f"m{i}-deadline"])
            except ValueError as exc:
                raise ValidationError(_("措施 %(path)s 的完成时限格式不正确。") % {"path": row["path"]}) from exc
        proposal = MeasureProposal(
            path=row["path"], title=(post.get(f"m{i}-title") or row["title"]).strip(), text=row["text"],
            items=row["items"], category=post.get(f"m{i}-category") or Category.OTHER,
            units=[units[int(pk)] for pk in post.getlist(f"m{i}-units") if pk.isdigit() and int(pk) in units],
            deadline_kind=post.get(f"m{i}-deadline_kind") or "", deadline=deadline)
        if post.get(f"m{i}-merge") and measures:
            # 合并到上一条: the previous task takes this one's text as further measures.
            prev = measures[-1]
            prev.items = (prev.items or [prev.text]) + (proposal.items or [proposal.text])
            continue
        measures.append(proposal)
    targets = []
    for j, t in enumerate(draft["parse"]["targets"]):
        if post.get(f"t{j}-keep"):
            targets.append(TargetProposal(indicator=(post.get(f"t{j}-indicator") or t["indicator"]).strip(),
                                          comparator=t["comparator"], value=post.get(f"t{j}-value") or t["value"],
                                          unit=t.get("unit") or "", year=t.get("year"), kept=bool(t.get("kept")),
                                          source=t.get("source") or ""))
    return measures, targets
