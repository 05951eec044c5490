"""Every write of the disclosure app: decisions (公开决定), publicists, articles, published heads.

Each service checks permission through ``disclosure.scope``, validates, writes and records its
event last in one transaction. A decision's event sits on the object it concerns (the task's, the
campaign's timeline), so the disclosed history of a task shows when it was made public.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.models import Event
from rectify.disclosure import scope
from rectify.disclosure.models import (
    Article,
    ArticleFile,
    ArticleKind,
    ArticleStatus,
    Decision,
    Observation,
    ObservationPhoto,
    Publicist,
    PublishedHead,
    Subject,
)
from rectify.disclosure.workflows import ARTICLE_FLOW
from rectify.dispatch.models import ProgressReport, ReportStatus
from rectify.ledger.models import Campaign, Task
from rectify.orgs.models import Unit, User
from rectify.orgs.scope import unit_within

MAX_REASON = 200
MAX_TITLE = 200
MAX_BODY = 20000
MAX_FILES = 10


def _office_of(subject: str, obj) -> Unit:
    if subject == Subject.CAMPAIGN:
        return obj.office
    if subject == Subject.TASK:
        return obj.campaign.office
    return obj.task.campaign.office


def _label(subject: str, obj) -> str:
    if subject == Subject.REPORT:
        return f"{obj.task.code} {obj.round.period} 进展公开摘要"
    return str(obj)


def _object_ref(subject: str, obj) -> tuple[str, int]:
    """Where the decision's event sits: a report summary's on its task's timeline."""
    if subject == Subject.REPORT:
        return "ledger.task", obj.task_id
    return obj._meta.label_lower, obj.pk


def decide(*, actor: User, subject: str, obj, disclosed: bool, reason: str = "") -> Decision:
    """公开决定: show ``obj`` (a campaign, a task, a progress report's public summary) to the public,
    or withhold it. Recorded in the audit chain; a decision that changes nothing records nothing."""
    return decide_many(actor=actor, subject=subject, objs=[obj], disclosed=disclosed, reason=reason)[0]


def decide_many(*, actor: User, subject: str, objs: Iterable, disclosed: bool, reason: str = "") -> list[Decision]:
    """The same decision for several objects at once (one event each, one transaction)."""
    if subject not in Subject.values:
        raise ValidationError("未知的公开对象。")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [f"说明不能超过 {MAX_REASON} 字。"]})
    objs = list(objs)
    if len(objs) > 20000:
        raise ValidationError("一次最多决定 20000 项。")
    for obj in objs:
        if not scope.decides_disclosure(actor, _office_of(subject, obj)):
            raise PermissionDenied("您无权决定该项内容是否公开。")
        if subject == Subject.REPORT and disclosed and (obj.status != ReportStatus.ACCEPTED or not obj.public_summary):
            raise ValidationError("只能公开已采纳且填写了公开摘要的进展报送。")
        if subject == Subject.TASK and disclosed and obj.status == "draft":
            raise ValidationError(f"任务 {obj.code} 仍是草稿，不能公开。")
    now = timezone.now()
    out = []
    with transaction.atomic():
        existing = {d.object_id: d for d in Decision.objects.select_for_update().filter(
            subject=subject, object_id__in=[o.pk for o in objs])}
        for obj in objs:
            decision = existing.get(obj.pk)
            if decision is not None and decision.disclosed == disclosed:
                out.append(decision)
                continue
            before = None if decision is None else {"disclosed": decision.disclosed}
            if decision is None:
                decision = Decision(subject=subject, object_id=obj.pk)
            decision.disclosed, decision.reason, decision.decided_by, decision.decided_at = disclosed, reason, actor, now
            decision.save()
            object_type, object_id = _object_ref(subject, obj)
            word = "公开" if disclosed else "不公开"
            record_event(actor=actor, action="disclosure_decided", object_type=object_type, object_id=object_id,
                         object_label=_label(subject, obj)[:300],
                         summary=f"{Subject(subject).label}决定{word}" + (f"：{reason}" if reason else ""),
                         before=before, after={"subject": subject, "object": obj.pk, "disclosed": disclosed})
            out.append(decision)
    return out


def disclose_campaign_tasks(*, actor: User, campaign: Campaign, disclosed: bool = True, reason: str = "") -> int:
    """Disclose (or withhold) the campaign itself and every non-draft task of it; returns the tasks decided."""
    tasks = list(Task.objects.select_related("campaign__office").filter(campaign=campaign).exclude(status="draft"))
    with transaction.atomic():
        decide(actor=actor, subject=Subject.CAMPAIGN, obj=campaign, disclosed=disclosed, reason=reason)
        decide_many(actor=actor, subject=Subject.TASK, objs=tasks, disclosed=disclosed, reason=reason)
    return len(tasks)


def disclose_summaries(*, actor: User, task: Task, disclosed: bool = True) -> int:
    """Disclose every accepted report summary of a task (or withhold them all)."""
    reports = list(ProgressReport.objects.select_related("task__campaign__office", "round").filter(
        task=task, status=ReportStatus.ACCEPTED).exclude(public_summary=""))
    decide_many(actor=actor, subject=Subject.REPORT, objs=reports, disclosed=disclosed)
    return len(reports)


# --- publicists (信息公开审核人) -------------------------------------------------------------------


def grant_publicist(*, actor: User, user: User) -> Publicist:
    """An office administrator lets a user (say of 市委宣传部) decide disclosure for its office tree."""
    if not scope.manages_publicists(actor):
        raise PermissionDenied("只有整改办管理员可以指定信息公开审核人。")
    if user.pk == actor.pk:
        raise PermissionDenied("不能为自己指定，请由另一位管理员办理。")
    if not user.is_active or user.unit is None or actor.unit is None:
        raise ValidationError("须为在用且属于某单位的账户。")
    if user.role in ("discipline", "auditor"):
        raise ValidationError("纪委监委和审计员账户不能担任信息公开审核人。")
    with transaction.atomic():
        row, created = Publicist.objects.get_or_create(user=user, defaults={
            "office": actor.unit, "granted_by": actor, "granted_at": timezone.now()})
        if created:
            record_event(actor=actor, action="publicist_granted", obj=user,
                         summary=f"指定 {user.username} 为信息公开审核人（{actor.unit.name}）",
                         after={"user": user.username, "office": actor.unit_id})
    return row


def revoke_publicist(*, actor: User, user: User) -> None:
    if not scope.manages_publicists(actor):
        raise PermissionDenied("只有整改办管理员可以取消信息公开审核人。")
    with transaction.atomic():
        row = Publicist.objects.select_for_update().filter(user=user).first()
        if row is None or not unit_within(row.office, actor.unit):
            raise Http404("信息公开审核人不存在或无权操作。")
        row.delete()
        record_event(actor=actor, action="publicist_revoked", obj=user,
                     summary=f"取消 {user.username} 的信息公开审核人资格", before={"user": user.username})


# --- articles (通报、曝光、典型案例、整改方案) -------------------------------------------------------


def _clean_article(kind: str, title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if kind not in ArticleKind.values:
        errors["kind"] = ["请选择文章类型。"]
    if not title or len(title) > MAX_TITLE:
        errors["title"] = [f"请填写标题（不超过 {MAX_TITLE} 字）。"]
    if not body or len(body) > MAX_BODY:
        errors["body"] = [f"请填写正文（不超过 {MAX_BODY} 字）。"]
    if "\x00" in title + body:
        errors["body"] = ["内容含有不可见的非法字符。"]
    if errors:
        raise ValidationError(errors)
    return title, body


def _linkable(actor: User, office: Unit, task_ids: Iterable[int]) -> list[Task]:
    ids = sorted({int(i) for i in task_ids})
    if len(ids) > 200:
        raise ValidationError({"tasks": ["一篇文章最多关联 200 项任务。"]})
    tasks = list(Task.objects.visible_to(actor).filter(pk__in=ids))
    if len(tasks) != len(ids):
        raise ValidationError({"tasks": ["关联的任务不存在或无权查看。"]})
    return tasks


def create_article(*, actor: User, kind: str, title: str, body: str, task_ids: Iterable[int] = ()) -> Article:
    """A draft article of the actor's office (it is public only once published)."""
    office = scope.deciding_office(actor)
    if office is None:
        raise PermissionDenied("您无权撰写公开文章。")
    title, body = _clean_article(kind, title, body)
    tasks = _linkable(actor, office, task_ids)
    with transaction.atomic():
        article = Article.objects.create(office=office, kind=kind, title=title, body=body, created_by=actor,
                                         created_at=timezone.now())
        article.tasks.set(tasks)
        record_event(actor=actor, action="article_created", obj=article, summary=f"撰写{ArticleKind(kind).label}「{title}」（草稿）",
                     after={"kind": kind, "tasks": [t.pk for t in tasks]})
    return article


def update_article(*, actor: User, article: Article, expected_version: int, kind: str, title: str, body: str,
                   task_ids: Iterable[int] = ()) -> Article:
    title, body = _clean_article(kind, title, body)
    with transaction.atomic():
        locked = Article.objects.visible_to(actor).select_for_update().filter(pk=article.pk).first()
        if locked is None or not scope.writes_article(actor, locked):
            raise Http404("文章不存在或无权操作。")
        if locked.version != expected_version:
            raise ValidationError("文章已被他人修改，请刷新后重试。")
        tasks = _linkable(actor, locked.office, task_ids)
        before = {"kind": locked.kind, "title": locked.title}
        locked.kind, locked.title, locked.body, locked.version = kind, title, body, locked.version + 1
        locked.save()
        locked.tasks.set(tasks)
        record_event(actor=actor, action="article_updated", obj=locked, summary=f"修改文章「{title}」",
                     before=before, after={"kind": kind, "title": title, "tasks": [t.pk for t in tasks]})
    return locked


def article_transition(*, actor: User, article: Article, action: str) -> Article:
    """Publish (发布) or withdraw (撤回) an article, by its table."""
    with transaction.atomic():
        locked = Article.objects.visible_to(actor).select_for_update().filter(pk=article.pk).first()
        if locked is None:
            raise Http404("文章不存在或无权操作。")
        rule = ARTICLE_FLOW.authorise(actor, locked, action)
        before = locked.status
        locked.status = rule.target
        if rule.target == ArticleStatus.PUBLISHED:
            locked.published_at = timezone.now()
        locked.save()
        record_event(actor=actor, action=ARTICLE_FLOW.event_of(rule), obj=locked,
                     summary=f"{rule.label}{locked.get_kind_display()}「{locked.title}」",
                     before={"status": before}, after={"status": rule.target})
    return locked


def attach_article_file(*, actor: User, article: Article, name: str, fileobj) -> ArticleFile:
    """An attachment (附件) of a draft or withdrawn article, checked by content like all evidence."""
    from rectify.evidence.inspect import inspect_upload
    from rectify.evidence.store import EvidenceStore

    inspected = inspect_upload(name, fileobj)
    with transaction.atomic():
        locked = Article.objects.visible_to(actor).select_for_update().filter(pk=article.pk).first()
        if locked is None or not scope.writes_article(actor, locked):
            raise Http404("文章不存在或无权操作。")
        if locked.status == ArticleStatus.PUBLISHED:
            raise ValidationError("已发布的文章不能增加附件，请先撤回。")
        if locked.files.count() >= MAX_FILES:
            raise ValidationError(f"每篇文章最多 {MAX_FILES} 个附件。")
        record = ArticleFile.objects.create(
            article=locked, digest=inspected.digest, extension=inspected.extension, size=inspected.size,
            mime=inspected.mime, kind=inspected.kind, original_name=inspected.original_name[:200], uploaded_by=actor)
        record_event(actor=actor, action="article_file_attached", obj=locked,
                     summary=f"文章「{locked.title}」上传附件「{record.original_name}」",
                     after={"file": record.pk, "sm3": inspected.digest, "size": inspected.size})
        EvidenceStore().save(inspected, fileobj)
    return record


# --- the chain head, published (链头公布) ------------------------------------------------------------


def publish_head(*, actor: User | None, where: str) -> PublishedHead:
    """Record the chain's current head as published (in a bulletin, on the portal). The event that
    records it comes after the head it names: the head is what the public already holds."""
    where = (where or "").strip()
    if not where or len(where) > 200:
        raise ValidationError({"where": ["请写明公布于何处（不超过 200 字）。"]})
    if actor is not None and not scope.decides_disclosure(actor):
        raise PermissionDenied("您无权公布链头。")
    with transaction.atomic():
        from rectify.core.audit import lock_chain

        lock_chain()
        head = Event.objects.order_by("-seq").values("seq", "hash", "created_at").first()
        if head is None:
            raise ValidationError("审计记录为空，无链头可公布。")
        row, created = PublishedHead.objects.get_or_create(seq=head["seq"], where=where, defaults={
            "hash": head["hash"], "event_time": head["created_at"], "published_at": timezone.now(),
            "published_by": actor})
        if created:
            record_event(actor=actor, action="chain_head_published", object_type="disclosure.publishedhead",
                         object_id=row.pk, object_label=f"#{row.seq}",
                         summary=f"公布审计链头 #{row.seq}:{row.hash}（{where}）",
                         after={"seq": row.seq, "hash": row.hash, "where": where})
    return row


# --- on-site observations (现场监督) by 监督员 ------------------------------------------------------------

MAX_PHOTOS = 9
MAX_OBSERVATION = 2000


def file_observation(*, actor: User, task_id: int, observed_on, place: str, content: str,
                     photos: Iterable[tuple[str, object]] = ()) -> Observation:
    """A 监督员 files what they saw on site about a public task, with up to nine photos. The photos
    are checked by content before anything is written; all or nothing."""
    import datetime as dt

    from rectify.evidence.inspect import inspect_upload
    from rectify.evidence.store import EvidenceStore

    if not scope.is_observer(actor):
        raise PermissionDenied("只有监督员可以提交现场监督情况。")
    place, content = (place or "").strip(), (content or "").strip()
    errors: dict[str, list[str]] = {}
    if len(content) < 5 or len(content) > MAX_OBSERVATION:
        errors["content"] = [f"请写明监督情况（5 至 {MAX_OBSERVATION} 字）。"]
    if len(place) > 200:
        errors["place"] = ["地点不能超过 200 字。"]
    if not isinstance(observed_on, dt.date) or observed_on > timezone.localdate() \
            or observed_on < timezone.localdate() - dt.timedelta(days=366):
        errors["observed_on"] = ["监督日期须在一年之内，且不晚于今天。"]
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [f"最多上传 {MAX_PHOTOS} 张照片。"]
    if "\x00" in place + content:
        errors["content"] = ["内容含有不可见的非法字符。"]
    if errors:
        raise ValidationError(errors)
    task = Task.objects.filter(scope.public_task_q(), pk=task_id).first()
    if task is None:
        raise ValidationError({"task": ["只能对已公开的整改任务提交现场监督。"]})
    inspected = [(inspect_upload(name, fileobj), fileobj) for name, fileobj in photos]
    with transaction.atomic():
        observation = Observation.objects.create(task=task, author=actor, observed_on=observed_on, place=place,
                                                 content=content, created_at=timezone.now())
        for item, _source in inspected:
            meta = item.exif
            ObservationPhoto.objects.create(
                observation=observation, digest=item.digest, extension=item.extension, size=item.size,
                mime=item.mime, kind=item.kind, original_name=item.original_name[:200],
                taken_at=getattr(meta, "taken_at", None), latitude=getattr(meta, "latitude", None),
                longitude=getattr(meta, "longitude", None), uploaded_by=actor)
        record_event(actor=actor, action="observation_filed", object_type="disclosure.observation",
                     object_id=observation.pk, object_label=f"{task.code} 现场监督",
                     summary=f"监督员提交现场监督（{task.code}，照片 {len(inspected)} 张）",
                     after={"task": task.pk, "photos": [i.digest for i, _s in inspected]})
        store = EvidenceStore()
        for item, source in inspected:
            store.save(item, source)
    return observation


def reply_observation(*, actor: User, observation: Observation, reply: str) -> Observation:
    """整改办 replies to an observation (once; a later reply replaces it and the record keeps both)."""
    reply = (reply or "").strip()
    if not reply or len(reply) > MAX_OBSERVATION:
        raise ValidationError({"reply": [f"请填写回复（不超过 {MAX_OBSERVATION} 字）。"]})
    with transaction.atomic():
        locked = (Observation.objects.visible_to(actor).select_for_update().select_related("task")
                  .filter(pk=observation.pk).first())
        if locked is None or not scope.replies_to(actor, locked):
            raise Http404("现场监督记录不存在或无权操作。")
        before = {"reply": locked.reply} if locked.reply else None
        locked.reply, locked.replied_by, locked.replied_at = reply, actor, timezone.now()
        locked.save()
        record_event(actor=actor, action="observation_replied", object_type="disclosure.observation",
                     object_id=locked.pk, object_label=f"{locked.task.code} 现场监督",
                     summary="整改办回复现场监督", before=before, after={"reply": reply})
    return locked
