"""The article's table (公开文章: 通报、曝光、典型案例、整改方案): a draft is published, a published
article may be withdrawn (it stays on record) and published again."""

from __future__ import annotations

from rectify.core.workflow import Transition, Workflow
from rectify.disclosure import scope
from rectify.disclosure.models import ArticleStatus

A = ArticleStatus

ARTICLE_FLOW = Workflow(
    "article",
    label="公开文章",
    states=A.choices,
    roles={"editor": scope.writes_article},
    transitions=[
        Transition(A.DRAFT, "publish", A.PUBLISHED, "editor", "发布", "article_published"),
        Transition(A.PUBLISHED, "withdraw", A.WITHDRAWN, "editor", "撤回", "article_withdrawn"),
        Transition(A.WITHDRAWN, "publish", A.PUBLISHED, "editor", "重新发布", "article_republished"),
    ],
)
