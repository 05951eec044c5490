"""The office's disclosure pages (/disclosure/): decide what the public sees, write articles,
publish the chain head, designate publicists. Thin: selectors read, services write."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.core.paging import list_page
from rectify.disclosure import scope, selectors, services
from rectify.disclosure.models import Article, ArticleKind, Publicist, PublishedHead, Subject
from rectify.disclosure.workflows import ARTICLE_FLOW
from rectify.dispatch.models import ProgressReport, ReportStatus
from rectify.evidence.inspect import EvidenceRejected
from rectify.ledger.models import Task
from rectify.orgs.models import User


def _require(request):
    if not scope.decides_disclosure(request.user):
        raise Http404(_("页面不存在。"))


def _fail(request, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, str(exc) or _("无权操作。"))


@login_required
def index(request):
    _require(request)
    return render(request, "disclosure/index.html", {
        "campaigns": selectors.campaigns_for(request.user),
        "articles": list(Article.objects.visible_to(request.user).order_by("-created_at", "-id")[:20]),
        "heads": list(PublishedHead.objects.order_by("-seq", "-id")[:10]),
        "publicists": list(Publicist.objects.select_related("user", "user__unit", "office")[:50])
        if scope.manages_publicists(request.user) else [],
        "manages": scope.manages_publicists(request.user),
    })


@login_required
def campaign(request, pk: int):
    _require(request)
    camp = selectors.get_campaign_for_user(request.user, pk)
    page = list_page(request, Task.objects.filter(campaign=camp).exclude(status="draft").order_by("code", "id"), 50)
    states = selectors.decisions_for(Subject.TASK, [t.pk for t in page.object_list])
    rows = [(t, states.get(t.pk)) for t in page.object_list]
    return render(request, "disclosure/campaign.html", {
        "campaign": camp, "decision": selectors.decisions_for(Subject.CAMPAIGN, [camp.pk]).get(camp.pk),
        "page": page, "rows": rows, "query": ""})


@login_required
def task(request, pk: int):
    _require(request)
    obj = selectors.get_task_for_user(request.user, pk)
    reports = list(ProgressReport.objects.filter(task=obj, status=ReportStatus.ACCEPTED).exclude(public_summary="")
                   .select_related("round", "unit").order_by("-round__period")[:60])
    states = selectors.decisions_for(Subject.REPORT, [r.pk for r in reports])
    return render(request, "disclosure/task.html", {
        "task": obj, "decision": selectors.decisions_for(Subject.TASK, [obj.pk]).get(obj.pk),
        "reports": [(r, states.get(r.pk)) for r in reports]})


@login_required
@require_POST
def decide(request):
    """One decision from any of the pages above: subject, object id, 1/0, back to where it came from."""
    _require(request)
    subject = request.POST.get("subject", "")
    raw = request.POST.get("object_id", "")
    disclosed = request.POST.get("disclosed") == "1"
    back = request.POST.get("next", "")
    if not back.startswith("/disclosure/"):
        back = "/disclosure/"
    if not raw.isdigit() or len(raw) > 15 or subject not in Subject.values + ["campaign_all"]:
        messages.error(request, _("参数不正确。"))
        return redirect(back)
    try:
        if subject == "campaign_all":
            n = services.disclose_campaign_tasks(actor=request.user, campaign=selectors.get_campaign_for_user(
                request.user, int(raw)), disclosed=disclosed, reason=request.POST.get("reason", ""))
            messages.success(request, _("已决定批次及其 %(n)s 项任务。") % {"n": n})
        else:
            if subject == Subject.CAMPAIGN:
                obj = selectors.get_campaign_for_user(request.user, int(raw))
            elif subject == Subject.TASK:
                obj = selectors.get_task_for_user(request.user, int(raw))
            else:
                report = ProgressReport.objects.select_related("task", "round").filter(pk=int(raw)).first()
                if report is None:
                    raise Http404
                selectors.get_task_for_user(request.user, report.task_id)
                obj = report
            services.decide(actor=request.user, subject=subject, obj=obj, disclosed=disclosed,
                            reason=request.POST.get("reason", ""))
            messages.success(request, _("已记录公开决定。"))
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    return redirect(back)


@login_required
@require_POST
def publish_head(request):
    _require(request)
    try:
        row = services.publish_head(actor=request.user, where=request.POST.get("where", ""))
        messages.success(request, _("已记录公布的链头 #%(seq)s。") % {"seq": row.seq})
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    return redirect("disclosure:index")


@login_required
@require_POST
def publicist(request):
    if not scope.manages_publicists(request.user):
        raise Http404
    username = (request.POST.get("username") or "").strip()[:150]
    user = User.objects.visible_to(request.user).filter(username=username).first()
    try:
        if user is None:
            raise ValidationError(_("账户不存在。"))
        if request.POST.get("revoke") == "1":
            services.revoke_publicist(actor=request.user, user=user)
        else:
            services.grant_publicist(actor=request.user, user=user)
        messages.success(request, _("已保存。"))
    except (ValidationError, PermissionDenied, Http404) as exc:
        _fail(request, exc)
    return redirect("disclosure:index")


def _task_ids(text: str) -> list[int]:
    return [int(p) for p in text.replace("，", ",").split(",") if p.strip().isdigit() and len(p.strip()) <= 15][:200]


@login_required
def article_new(request):
    _require(request)
    values = {"kind": ArticleKind.CIRCULAR, "title": "", "body": "", "tasks": ""}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "")[:21000] for k in values}
        try:
            article = services.create_article(actor=request.user, kind=values["kind"], title=values["title"],
                                              body=values["body"], task_ids=_task_ids(values["tasks"]))
            return redirect("disclosure:article", pk=article.pk)
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
    return render(request, "disclosure/article_form.html", {"values": values, "kinds": ArticleKind.choices})


@login_required
def article(request, pk: int):
    _require(request)
    obj = selectors.get_article_for_user(request.user, pk)
    if request.method == "POST":
        try:
            if "action" in request.POST:
                services.article_transition(actor=request.user, article=obj, action=request.POST["action"])
            elif "file" in request.FILES:
                upload = request.FILES["file"]
                services.attach_article_file(actor=request.user, article=obj, name=upload.name, fileobj=upload)
            else:
                version = request.POST.get("version", "")
                services.update_article(actor=request.user, article=obj,
                                        expected_version=int(version) if version.isdigit() and len(version) < 9 else 0,
                                        kind=request.POST.get("kind", ""), title=request.POST.get("title", "")[:300],
                                        body=request.POST.get("body", "")[:21000],
                                        task_ids=_task_ids(request.POST.get("tasks", "")[:3000]))
            messages.success(request, _("已保存。"))
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
        except EvidenceRejected as exc:  # an upload refused by content says why
            messages.error(request, str(exc))
        return redirect("disclosure:article", pk=pk)
    values = {"kind": obj.kind, "title": obj.title, "body": obj.body,
              "tasks": ",".join(str(i) for i in obj.tasks.values_list("pk", flat=True))}
    return render(request, "disclosure/article.html", {
        "article": obj, "values": values, "kinds": ArticleKind.choices, "files": list(obj.files.all()),
        "actions": ARTICLE_FLOW.available(request.user, obj)})


# --- on-site observations (现场监督) -----------------------------------------------------------------


def _public_task_id(text: str) -> int | None:
    from rectify.disclosure.scope import published_task_rows

    text = (text or "").strip()[:40]
    if not text:
        return None
    rows = published_task_rows()
    found = rows.filter(pk=int(text)) if text.isdigit() and len(text) < 15 else rows.filter(code=text)
    return found.values_list("pk", flat=True).first()


@login_required
def observations(request):
    """An observer's own observations (and the form to file one); the office's list to reply to."""
    from rectify.disclosure.models import Observation

    if not (scope.is_observer(request.user) or scope.decides_disclosure(request.user)):
        raise Http404(_("页面不存在。"))
    rows = Observation.objects.visible_to(request.user).select_related("task", "author").order_by("-created_at", "-id")
    page = list_page(request, rows, 30)
    return render(request, "disclosure/observations.html", {
        "page": page, "query": "", "observer": scope.is_observer(request.user),
        "today": timezone.localdate(), "task_hint": request.GET.get("task", "")[:40]})


@login_required
@require_POST
def observation_new(request):
    if not scope.is_observer(request.user):
        raise Http404(_("页面不存在。"))
    try:
        raw_date = request.POST.get("observed_on", "")
        try:
            observed_on = dt.date.fromisoformat(raw_date[:10])
        except ValueError as exc:
            raise ValidationError(_("请填写监督日期。")) from exc
        task_id = _public_task_id(request.POST.get("task", ""))
        if task_id is None:
            raise ValidationError(_("未找到该公开任务，请填写门户任务页上的任务编号。"))
        files = request.FILES.getlist("photos")[:20]
        observation = services.file_observation(actor=request.user, task_id=task_id, observed_on=observed_on,
                                                place=request.POST.get("place", "")[:300],
                                                content=request.POST.get("content", "")[:2100],
                                                photos=[(f.name, f) for f in files])
        messages.success(request, _("现场监督情况已提交。"))
        return redirect("disclosure:observation", pk=observation.pk)
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    except EvidenceRejected as exc:
        messages.error(request, str(exc))
    return redirect("disclosure:observations")


@login_required
def observation(request, pk: int):
    from rectify.disclosure.models import Observation

    obj = Observation.objects.visible_to(request.user).select_related("task", "author", "replied_by") \
        .filter(pk=pk).first()
    if obj is None:
        raise Http404(_("现场监督记录不存在。"))
    if request.method == "POST":
        try:
            services.reply_observation(actor=request.user, observation=obj, reply=request.POST.get("reply", "")[:2100])
            messages.success(request, _("已回复。"))
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
        return redirect("disclosure:observation", pk=pk)
    return render(request, "disclosure/observation.html", {
        "observation": obj, "photos": list(obj.photos.all()), "replies": scope.replies_to(request.user, obj)})


@login_required
def observation_photo(request, pk: int):
    from rectify.disclosure.models import ObservationPhoto
    from rectify.evidence.store import EvidenceStore

    photo = ObservationPhoto.objects.visible_to(request.user).filter(pk=pk).first()
    if photo is None:
        raise Http404(_("照片不存在。"))
    try:
        return EvidenceStore().response(photo.digest, photo.extension, download_name=photo.original_name)
    except (FileNotFoundError, OSError) as exc:
        raise Http404(_("文件缺失。")) from exc
