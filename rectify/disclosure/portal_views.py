"""The public portal (信息公开, /gongkai/): no login, reads through ``scope.published_*`` only.

Pages that show the same thing to everyone are cached per chain head (``cache.cached_page``);
the forms (objection, receipt lookup, head verification) are not cached: they carry a CSRF token
and a fresh challenge. Every POST here is rate-limited per address.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rectify.core.middleware import client_ip
from rectify.core.ratelimit import hit
from rectify.disclosure import opendata, scope, selectors
from rectify.disclosure.cache import cached_page, current_head
from rectify.disclosure.challenge import check_answer, new_challenge
from rectify.disclosure.models import ArticleKind, PublishedHead
from rectify.ledger.models import CloseoutStage, DeadlineKind, TaskStatus
from rectify.orgs.models import Category

PER_PAGE = 20
LABELS = {
    "category": dict(Category.choices), "status": dict(TaskStatus.choices), "closeout_stage": dict(CloseoutStage.choices),
    "deadline_kind": dict(DeadlineKind.choices), "kind": dict(ArticleKind.choices),
}


def _labelled(rows):
    """Add ``<field>_label`` beside each coded field of public rows (dicts)."""
    out = []
    for row in rows:
        row = dict(row)
        for field, labels in LABELS.items():
            if field in row:
                row[f"{field}_label"] = str(labels.get(row[field], "")) if row[field] else ""
        out.append(row)
    return out


def _page(request, template: str, **context):
    head = getattr(request, "portal_head", None) or current_head()
    context.update(head=head, now=timezone.localtime())
    return render(request, template, context)


def _throttled(request, bucket: str) -> bool:
    limit = getattr(settings, "PUBLIC_OBJECTION_RATE", 10)
    return not hit(f"portal:{bucket}:{client_ip(request)}", limit=limit, window_seconds=3600)


# --- pages -----------------------------------------------------------------------------------------


@require_GET
@cached_page
def overview(request):
    return _page(request, "portal/overview.html", data=selectors.overview())


@require_GET
@cached_page
def task_list(request):
    filters = selectors.TaskFilters.from_query(request.GET)
    page = selectors.PublicPaginator(selectors.public_tasks(filters), selectors.public_task_rows(filters),
                                     PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in {"county": filters.county or "", "campaign": filters.campaign or "",
                                         "category": filters.category, "stage": filters.stage,
                                         "status": filters.status, "q": filters.q}.items() if v})
    return _page(request, "portal/task_list.html", page=page, rows=_labelled(page.object_list), filters=filters,
                 query=query, counties=list(scope.published_counties()),
                 campaigns=list(scope.published_campaigns()[:50]), categories=Category.choices,
                 stages=CloseoutStage.choices, statuses=selectors.PUBLIC_STATUSES)


@require_GET
@cached_page
def task_detail(request, pk: int):
    task = _labelled([selectors.public_task(pk)])[0]
    extras = selectors.task_extras(pk)
    return _page(request, "portal/task_detail.html", task=task, **extras)


@require_GET
@cached_page
def task_history(request, pk: int):
    task = selectors.public_task(pk)
    head = request.portal_head
    body = {"task": {"id": task["id"], "code": task["code"], "title": task["title"]},
            "chain_head": {"seq": head.seq, "hash": head.hash, "time": head.time},
            "generated_at": timezone.now(),
            "note": "事件哈希为整改办以链密钥计算的 HMAC-SM3；核验方法见 /gongkai/chain/ 与 docs/disclosure.md。",
            "events": selectors.task_history(pk)}
    response = HttpResponse(json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="task-{task["id"]}-history.json"'
    return response


@require_GET
@cached_page
def notice_list(request):
    rows = list(scope.published_notices()[:200])
    return _page(request, "portal/notice_list.html", rows=rows)


@require_http_methods(["GET", "POST"])
def notice_detail(request, pk: int):
    """A close-out notice open for objection, with the objection form (works without JavaScript)."""
    from rectify.closeout import services as closeout

    notice = scope.published_notices().filter(pk=pk).first()
    if notice is None:
        raise Http404(_("公示不存在或已结束。"))
    errors: list[str] = []
    values = {"content": "", "name": "", "phone": ""}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "")[:2100] for k in values}
        if _throttled(request, "objection"):
            limited = _page(request, "portal/notice_detail.html", notice=notice, values=values,
                            errors=[_("提交过于频繁，请稍后再试。")], challenge=new_challenge())
            limited.status_code = 429
            return limited
        if not check_answer(request.POST.get("challenge_token", ""), request.POST.get("challenge_answer", "")):
            errors.append(_("验证题回答不正确或已过期，请重新作答。"))
        else:
            closeout_row = scope.notice_for_objection(pk)
            try:
                objection = closeout.file_objection(closeout=closeout_row, content=values["content"],
                                                    name=values["name"], phone=values["phone"], channel="portal")
            except ValidationError as exc:
                errors.extend(m for m in exc.messages)
            else:
                return _page(request, "portal/receipt_issued.html", notice=notice, receipt=objection.receipt)
    response = _page(request, "portal/notice_detail.html", notice=notice, values=values, errors=errors,
                     challenge=new_challenge(), open=closeout.objection_open(scope.notice_for_objection(pk)))
    if errors:
        response.status_code = 400
    return response


@require_http_methods(["GET", "POST"])
def receipt_lookup(request):
    """凭回执编号查询: a submitter sees the status and answer of their objection, nothing else."""
    from rectify.closeout import services as closeout

    result, error, receipt = None, "", ""
    if request.method == "POST":
        receipt = (request.POST.get("receipt") or "").strip()[:20]
        if _throttled(request, "receipt"):
            error = _("查询过于频繁，请稍后再试。")
        else:
            objection = closeout.objection_by_receipt(receipt)
            if objection is None:
                error = _("未找到该回执编号，请核对后重试。")
            else:
                result = {"receipt": objection.receipt, "task_code": objection.closeout.task.code,
                          "status": objection.get_status_display(), "answer": objection.answer,
                          "answered_at": objection.answered_at, "submitted_at": objection.submitted_at}
    response = _page(request, "portal/receipt.html", result=result, error=error, receipt=receipt)
    if error:
        response.status_code = 429 if "频繁" in error else 404
    return response


@require_GET
@cached_page
def closed_list(request):
    from rectify.core.paging import ListPaginator

    page = ListPaginator(scope.published_filings(), PER_PAGE).get_page(request.GET.get("page"))
    return _page(request, "portal/closed_list.html", page=page, query="")


@require_GET
@cached_page
def lookback_list(request):
    from rectify.core.paging import ListPaginator

    page = ListPaginator(scope.published_lookbacks(), PER_PAGE).get_page(request.GET.get("page"))
    return _page(request, "portal/lookback_list.html", page=page, query="")


@require_GET
@cached_page
def article_list(request):
    from rectify.core.paging import ListPaginator

    kind = request.GET.get("kind") or ""
    rows = scope.published_articles()
    if kind in ArticleKind.values:
        rows = rows.filter(kind=kind)
    else:
        kind = ""
    page = ListPaginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return _page(request, "portal/article_list.html", page=page, rows=_labelled(page.object_list), kind=kind,
                 kinds=ArticleKind.choices, query=urlencode({"kind": kind}) if kind else "")


@require_GET
@cached_page
def article_detail(request, pk: int):
    article = scope.published_articles().filter(pk=pk).first()
    if article is None:
        raise Http404(_("文章不存在或未发布。"))
    return _page(request, "portal/article_detail.html", article=_labelled([article])[0],
                 tasks=list(scope.published_article_tasks([pk])), files=list(scope.published_article_files([pk])))


@require_GET
def article_file(request, pk: int):
    from rectify.evidence.store import EvidenceStore

    row = scope.published_article_file(pk)
    if row is None:
        raise Http404(_("附件不存在或未公开。"))
    try:
        return EvidenceStore().response(row.digest, row.extension, download_name=row.original_name)
    except (FileNotFoundError, OSError) as exc:
        raise Http404(_("附件缺失，请联系整改办。")) from exc


@require_GET
@cached_page
def plan(request):
    rows = _labelled(scope.published_articles().filter(kind=ArticleKind.PLAN)[:20])
    files = {}
    for f in scope.published_article_files([r["id"] for r in rows]):
        files.setdefault(f["article_id"], []).append(f)
    for r in rows:
        r["files"] = files.get(r["id"], [])
    return _page(request, "portal/plan.html", rows=rows, campaigns=list(scope.published_campaigns()[:50]))


# --- open data and the feed ------------------------------------------------------------------------------


@require_GET
@cached_page
def data_index(request):
    return _page(request, "portal/data.html", datasets=opendata.DATASETS.values(), licence=opendata.licence())


@require_GET
@cached_page
def data_package(request):
    return JsonResponse(opendata.datapackage(request.portal_head), json_dumps_params={"ensure_ascii": False,
                                                                                       "indent": 1})


@require_GET
@cached_page
def data_file(request, name: str, fmt: str):
    dataset = opendata.DATASETS.get(name)
    if dataset is None or fmt not in ("csv", "json"):
        raise Http404
    rows = opendata.rows(dataset)
    if fmt == "json":
        body = opendata.as_json(dataset, rows, request.portal_head)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([f.name for f in dataset.fields])
        for row in rows:
            writer.writerow([opendata.csv_cell(row.get(f.name)) for f in dataset.fields])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
    return response


@require_GET
@cached_page
def feed(request):
    atom = Atom1Feed(title=_("督察整改信息公开：公示、进展与通报"), link=request.build_absolute_uri("/gongkai/"),
                     description=_("销号公示、备案销号、进展公开摘要和公开文章"), language="zh-hans",
                     feed_url=request.build_absolute_uri(request.path))
    for entry in opendata.feed_entries():
        atom.add_item(title=entry["title"], link=request.build_absolute_uri(entry["link"]),
                      description=entry["description"], pubdate=entry["time"], updateddate=entry["time"],
                      unique_id=request.build_absolute_uri(entry["link"]) + "#" + entry["id"])
    return HttpResponse(atom.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8")


# --- the chain head ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def chain(request):
    """Published heads, the current head, and a check that today's record extends a given head."""
    from rectify.core.audit import verify_chain

    head = current_head()
    request.portal_head = head
    heads = list(PublishedHead.objects.order_by("-seq", "-id").values("seq", "hash", "event_time", "published_at",
                                                                       "where")[:100])
    verdict, given, status = None, "", 200
    if request.method == "POST":
        given = (request.POST.get("head") or "").strip()[:80]
        seq_text, _sep, digest = given.partition(":")
        if _throttled(request, "verify"):
            verdict, status = {"ok": False, "message": _("核验过于频繁，请稍后再试。")}, 429
        elif not (seq_text.isdigit() and len(seq_text) <= 15 and len(digest) == 64
                  and all(c in "0123456789abcdef" for c in digest.lower())):
            verdict, status = {"ok": False, "message": _("请按「链长:链头哈希」填写，例如 1234:后接 64 位十六进制哈希。")}, 400
        else:
            result = verify_chain(head=(int(seq_text), digest.lower()))
            verdict = {"ok": result.ok, "message": result.message, "count": result.count}
    response = _page(request, "portal/chain.html", heads=heads, bulletins=selectors.bulletin_heads(), verdict=verdict,
                     given=given)
    response.status_code = status
    return response
