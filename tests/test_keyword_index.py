"""The ledger's keyword index (rectify.ledger.search): bigrams narrow, the exact test decides.

What must hold: every task that contains a keyword (as the database's case-insensitive LIKE sees
it) is a candidate of the index, so search finds exactly what it found without it; the index is
kept by every write of the services (the form, an edit, a bulk import) in the same transaction;
``rectify reindex`` builds it again; and the index really is read (a task missing from it is not
found until it is reindexed).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from rectify.cli import main as rectify
from rectify.ledger import search, services
from rectify.ledger.models import DeadlineKind, Task
from rectify.orgs.models import Category
from rectify.orgs.services import issue_api_token

TEXT = st.text(alphabet=st.sampled_from("污水处理厂黑臭扬尘AaBbZz09-_%，。 ßSsıIİi\u00adＡａ"), max_size=30)


@settings(max_examples=400, deadline=None)
@given(before=TEXT, word=TEXT.filter(lambda w: w.strip()), after=TEXT, swap=st.booleans())
def test_every_text_containing_a_word_has_all_its_terms(before, word, after, swap):
    # LIKE folds ASCII case on SQLite, UPPER() folds Unicode case on PostgreSQL: a text containing
    # the word in either sense must hold every term of the word
    shown = word.swapcase() if swap else word
    tokens = set(search.grams(before + shown + after).split())
    assert set(search.query_terms(word)) <= tokens, (before, shown, after)


DECIDED_TEXT = st.text(alphabet=st.sampled_from("污水黑臭扬尘09ßSsıIİiKk\u212aＡａ，- "), max_size=30)


@settings(max_examples=400, deadline=None)
@given(text=DECIDED_TEXT, word=st.text(alphabet=st.sampled_from("污水黑臭扬尘09"), min_size=2, max_size=2))
def test_for_two_ideographs_or_digits_the_index_is_exact(text, word):
    # what lets the search leave out the LIKE test for these words: no folding yields them
    assert search.index_decides(word)
    (term,) = search.query_terms(word)
    assert (term in search.grams(text).split()) == (word in text) == (word.upper() in text.upper()), (text, word)


def test_only_two_ideographs_or_digits_are_decided_by_the_index():
    assert all(search.index_decides(w) for w in ("污水", "扬尘", "20", "30"))
    assert not any(search.index_decides(w) for w in ("污", "污水处理", "ab", "K1", "污-", "Ａ1", "ß0"))


def test_terms_are_ascii_tokens_and_short_words_have_none():
    assert search.query_terms("污水") == ["污水".encode().hex()] == ["e6b1a1e6b0b4"]
    assert search.query_terms("污") == [] and search.query_terms("-%_，") == []
    assert search.query_terms("YZ-2024") == search.query_terms("yz 2024")  # runs split at punctuation, case folded
    assert all(t.isascii() and t.isalnum() for t in search.grams("黑臭水体 Ａ-12 ß").split())


def _task(world, code, **fields):
    data = dict(code=code, title="任务", problem="问题", category=Category.WATER,
                responsible_units=[world.county_a], lead_supervisor=world.dept_env,
                deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2026, 12, 31),
                measures=[services.MeasureInput(text="措施一")])
    data.update(fields)
    return services.create_task(actor=world.users["office_admin"], campaign=world.campaign,
                                data=services.TaskInput(**data))


def _found(world, query: str) -> set[str]:
    page = world.client("office_admin").get("/ledger/", {"per_page": 200, "q": query})
    assert page.status_code == 200
    user = world.users["office_admin"]
    token = issue_api_token(actor=user, user=user, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/tasks", {"limit": 200, "q": query}).json()
    codes = {t.code for t in Task.objects.all() if f">{t.code}</a>" in page.content.decode()}
    assert codes == {row["code"] for row in api["items"]}
    return codes


def _ascii_fold(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def _containing(query: str) -> set[str]:
    """The oracle: tasks whose searchable fields contain every word (case folded as SQLite's LIKE)."""
    return {t.code for t in Task.objects.all()
            if all(any(_ascii_fold(w) in _ascii_fold(getattr(t, f)) for f in search.SEARCHABLE) for w in query.split())}


def test_search_finds_exactly_the_tasks_containing_the_words(world):
    _task(world, "K-01", title="城区黑臭水体整治", problem="生活污水直排")
    _task(world, "K-02", title="污染地块", problem="水污染", target="黑臭消除")  # 污 and 水 apart: bigrams differ
    _task(world, "K-03", title="Plant AB-7 排口", inspection_number="ZY-2024-003")
    _task(world, "K-04", title="扬尘", problem="水污了")  # 水污 is not 污水
    for query, expected in [("污水", {"K-01", "T-01"}), ("黑臭", {"K-01", "K-02"}), ("黑臭 污水", {"K-01"}),
                            ("ab-7", {"K-03"}),  # ASCII case, punctuation inside the word
                            ("2024-003", {"K-03"}), ("K-0", {"K-01", "K-02", "K-03", "K-04"}),  # the code too
                            ("污", {"K-01", "K-02", "K-04", "T-01"}),  # one character: no index, LIKE alone
                            ("染地", {"K-02"}), ("不存在的词", set()), ("水污", {"K-02", "K-04"})]:
        assert _found(world, query) == expected == _containing(query), query


def _retitled(task, title):
    data = services.task_input_from(task)
    data.title = title
    return data


def test_edits_and_bulk_imports_keep_the_index(world):
    admin = world.users["office_admin"]
    task = _task(world, "K-10", title="旧标题")
    services.update_task(actor=admin, task=task, expected_version=task.version,
                         data=_retitled(task, "尾矿库渗漏"))
    assert _found(world, "尾矿") == {"K-10"} and _found(world, "旧标题") == set()
    writes = [services.TaskWrite(data=services.TaskInput(
        code=f"B-{i}", title=f"批量导入的秸秆焚烧{i}", problem="问题", category=Category.AIR,
        responsible_units=[world.county_b], lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.BY_DATE,
        deadline=dt.date(2026, 12, 31), measures=[services.MeasureInput(text="措施")])) for i in range(3)]
    task.refresh_from_db()
    writes.append(services.TaskWrite(data=_retitled(task, "矿山复绿"), task=task,
                                     expected_version=task.version))
    services.write_tasks(actor=admin, campaign=world.campaign, writes=writes)
    assert _found(world, "秸秆焚烧") == {"B-0", "B-1", "B-2"}
    assert _found(world, "复绿") == {"K-10"} and _found(world, "尾矿") == set()


def test_the_index_is_read_and_reindex_rebuilds_it(world, capsys):
    _task(world, "K-20", title="饮用水源地保护")
    assert _found(world, "水源") == {"K-20"}
    key = "task_id" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:  # as if the task had been loaded around the services
        cursor.execute(f"DELETE FROM {search.TABLE} WHERE {key} = %s", [Task.objects.get(code="K-20").pk])
    assert _found(world, "水源") == set()  # narrowed by the index: it is not bypassed
    assert _found(world, "源") == {"K-20"}  # a one-character word is searched without it
    assert rectify(["reindex"]) == 0
    assert f"已重建关键词索引：{Task.objects.count()} 项任务" in capsys.readouterr().out
    assert _found(world, "水源") == {"K-20"}


@pytest.mark.parametrize("word", ["污水", "a%b", "__", "ZY-2024"])
def test_the_keyword_page_costs_the_same_queries_as_without_a_keyword(world, word):
    for i in range(5):
        _task(world, f"Q-{i}", title=f"污水{i} a%b __ zy-2024")  # every word finds rows
    client = world.client("office_admin")
    client.get("/ledger/")
    client.get("/ledger/", {"q": word})  # SQLite reads a word's candidate count once a minute (the plan)

    with CaptureQueriesContext(connection) as plain:
        client.get("/ledger/")
    with CaptureQueriesContext(connection) as searched:
        assert client.get("/ledger/", {"q": word}).status_code == 200
    assert len(searched.captured_queries) == len(plain.captured_queries)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL weighs the two plans by its statistics")
def test_sqlite_counts_from_the_candidates_and_walks_the_order_for_a_common_words_page(world, monkeypatch):
    # the count reads the candidates' rows (a rare word: a handful); the page of a word with many
    # candidates walks the list's order and tests each entry against them (50 rows read, not all of
    # 污水's 8,590 at 25,000 tasks); a rare word's page is driven by its few candidates. (A word the
    # index decides, searched by an office that sees every task, is counted from the index alone: a
    # word of three ideographs here, whose count is the list's.)
    for i in range(5):
        _task(world, f"W-{i}", title=f"污水处理{i}")

    def queries(word):
        search._counts.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert world.client("office_admin").get("/ledger/", {"q": word}).status_code == 200
        narrowed = [q["sql"] for q in ctx.captured_queries if f"FROM {search.TABLE} WHERE" in q["sql"]]
        count = next(sql for sql in narrowed if sql.upper().startswith("SELECT COUNT(*) AS"))
        page = next(sql for sql in narrowed if not sql.upper().startswith("SELECT COUNT("))
        return count, page

    walked = re.compile(r'\+(V\d+|"ledger_task")\."id" IN \(SELECT rowid FROM ledger_task_search ')
    count, page = queries("污水处")  # 5 candidates: a rare word here
    assert '"ledger_task"."id" IN (SELECT rowid' in count and not walked.search(count), count
    assert not walked.search(page), page
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + count.replace("%", "%%"))  # the driver is the candidate list
        assert "(rowid=?)" in " ".join(str(row) for row in cursor.fetchall())
    monkeypatch.setattr(search, "WALK_ABOVE", 3)  # 5 candidates: a common word now
    count, page = queries("污水处")
    assert not walked.search(count), count
    # the outer query reads the page's rows by their keys; the keys' subquery (aliased) walks the order
    assert re.search(walked.pattern + r".*\bLIMIT \d+\)", page), page


def test_a_keyword_is_bounded_with_a_clear_message(world):
    long = "污" * 101
    page = world.client("office_admin").get("/ledger/", {"q": long})
    assert page.status_code == 200 and "不超过 100 字符" in page.content.decode()  # the form says how long it may be
    user = world.users["office_admin"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='t')}")
    assert api.get("/api/v1/tasks", {"q": long}).status_code == 422
    assert api.get("/api/v1/tasks", {"q": "污" * 100}).status_code == 200


def _index_ids() -> set[int]:
    key = "task_id" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key} FROM {search.TABLE}")
        return {row[0] for row in cursor.fetchall()}


def test_a_deleted_tasks_index_row_goes_with_it(world):
    # what lets the list count a decided word from the index alone: it holds no row of a task gone,
    # whichever way the task went (one instance, a queryset of several)
    kept, gone, *more = (_task(world, f"D-{i}", title=f"污水{i}") for i in range(4))
    assert {kept.pk, gone.pk, *(t.pk for t in more)} <= _index_ids()
    gone.delete()
    Task.objects.filter(pk__in=[t.pk for t in more]).delete()
    assert _index_ids() == set(Task.objects.values_list("pk", flat=True))
    assert kept.pk in _index_ids()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE (Django's flush deletes)")
def test_a_truncate_of_the_tasks_empties_the_index(world):
    # a test database emptied by TRUNCATE (Django's flush on PostgreSQL) leaves no row behind
    _task(world, "T-1", title="污水")
    assert _index_ids()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check may be pending on a TRUNCATE
        cursor.execute("TRUNCATE ledger_task CASCADE")  # rolled back with the test
    assert _index_ids() == set()


def _count_queries(client, params) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/ledger/", params)
    assert page.status_code == 200
    shown = re.search(r'id="result-count">([^<]*)<', page.content.decode()).group(1)
    # the list's count (not the SQLite planner's hint of a word's candidates, search.candidate_count)
    return shown, [q["sql"] for q in ctx.captured_queries
                   if q["sql"].startswith("SELECT CASE WHEN EXISTS")
                   or (q["sql"].upper().startswith("SELECT COUNT(") and 'FROM "ledger_task"' in q["sql"])]


def _matching(user, word: str, **filters) -> int:
    from django.db.models import Q

    found = Q()
    for name in search.SEARCHABLE:
        found |= Q(**{f"{name}__icontains": word})
    return Task.objects.visible_to(user).filter(found, **filters).count()


def test_an_office_that_sees_every_task_counts_a_decided_word_from_the_index(world):
    # 污水 at 100,000 tasks: 34,720 tasks, each read by its key to count them (21 ms on SQLite);
    # the index alone holds the same number (1.4 ms), now that a deleted task's row goes with it
    for i in range(4):
        _task(world, f"C-{i}", title=f"污水{i}" if i < 3 else "扬尘污水", category=Category.WATER if i else Category.AIR)
    Task.objects.filter(code="C-0").delete()  # its row goes; the count must not see it
    admin = world.users["office_admin"]
    client = world.client("office_admin")
    shown, counts = _count_queries(client, {"q": "污水"})
    assert _matching(admin, "污水") >= 3 and shown.startswith(f"共 {_matching(admin, '污水')} 条任务"), shown
    (count,) = counts
    assert f"FROM {search.TABLE} WHERE" in count and '"ledger_task"' not in count, count  # the index alone
    shown, (count,) = _count_queries(client, {"q": "污水 扬尘"})  # every word decided: both terms, no task
    assert shown.startswith("共 1 条任务") and '"ledger_task"' not in count, (shown, count)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=admin, user=admin, name='t')}")
    with CaptureQueriesContext(connection) as ctx:  # the API's list counts the same way
        listed = api.get("/api/v1/tasks", {"q": "污水", "limit": 2}).json()
    assert listed["count"] == _matching(admin, "污水") and len(listed["items"]) == 2 and not listed["estimated"]
    assert any(q["sql"].startswith("SELECT CASE WHEN EXISTS") for q in ctx.captured_queries)
    assert api.get("/api/v1/tasks", {"q": "污水1"}).json()["count"] == _matching(admin, "污水1") == 1

    # anything else counts the list itself, and the same number comes out
    for params, expected in (({"q": "污水", "category": Category.WATER}, _matching(admin, "污水", category=Category.WATER)),
                             ({"q": "污水1"}, _matching(admin, "污水1")), ({"q": "扬"}, _matching(admin, "扬"))):
        shown, (count,) = _count_queries(client, params)
        assert expected and shown.startswith(f"共 {expected} 条任务") and '"ledger_task"' in count, (params, shown, count)
    reporter = world.users["reporter_a"]
    shown, (count,) = _count_queries(world.client("reporter_a"), {"q": "污水"})
    assert shown.startswith(f"共 {_matching(reporter, '污水')} 条任务") and '"ledger_task"' in count, (shown, count)


def test_with_another_top_the_office_counts_its_own_tree(world):
    # two cities on one server: the office no longer sees every task, and the index's count (which
    # would take the other city's tasks) gives way to the list's, in the same first statement
    from rectify.core.roles import Role
    from rectify.ledger.models import Campaign
    from rectify.orgs.models import UnitKind
    from rectify.orgs.services import create_unit, create_user

    _task(world, "O-1", title="污水")
    other = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE, parent=None)
    their_admin = create_user(actor=None, username="other_admin", password="Xy7#kw-test-2026", role=Role.OFFICE_ADMIN,
                              unit=other, display_name="另一市管理员", must_change_password=False)
    theirs = Campaign.objects.create(code="O-C", name="另一市批次", office=other)
    services.create_task(actor=their_admin, campaign=theirs, data=services.TaskInput(
        code="O-2", title="污水", problem="问题", category=Category.WATER, responsible_units=[world.county_a],
        lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2026, 12, 31),
        measures=[services.MeasureInput(text="措施")]))
    assert len(_index_ids()) >= 2
    shown, counts = _count_queries(world.client("office_admin"), {"q": "污水"})
    admin = world.users["office_admin"]
    assert _matching(their_admin, "污水") == 1 and _matching(admin, "污水") >= 1  # the other city's is not ours
    assert shown.startswith(f"共 {_matching(admin, '污水')} 条任务"), shown
    assert len(counts) == 2 and f"FROM {search.TABLE} WHERE" in counts[0] and '"ledger_task"' in counts[1], counts
