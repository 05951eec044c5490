"""Every screen speaks Chinese through Django i18n: zh-Hans is the source language (msgid = the
Chinese text), and a deployment can change wording with its own catalogue, without touching code."""

from __future__ import annotations

import array
import gettext
import os
import re
import struct
from pathlib import Path

import pytest
from django.template.loader import get_template
from django.utils import translation
from django.utils.translation import trans_real

import rectify

PACKAGE = Path(rectify.__file__).resolve().parent
TEMPLATES = sorted(PACKAGE.glob("**/templates/**/*.html"))
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES"

# CJK ideographs, CJK symbols and punctuation (、。「」…), full-width forms (，：（）…).
CJK = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
IDEOGRAPH = re.compile("[\u4e00-\u9fff]")

COMMENT = re.compile(r"\{#.*?#\}", re.S)
BLOCK_TRANSLATE = re.compile(r"\{%\s*blocktrans(?:late)?\b(.*?)%\}(.*?)\{%\s*endblocktrans(?:late)?\s*%\}", re.S)
TAG = re.compile(r"\{%.*?%\}", re.S)
VARIABLE = re.compile(r"\{\{.*?\}\}", re.S)
TRANSLATE_TAG = re.compile(r"""^\{%\s*trans(?:late)?\s+(?:"[^"]*"|'[^']*')(?:\s+(?:noop|as\s+\w+|context\s+\S+))*\s*%\}$""",
                           re.S)
LITERAL = re.compile(r""""([^"]*)"|'([^']*)'""")
DATE_ARGUMENT = re.compile(r"""\|\s*date\s*:\s*("[^"]*"|'[^']*')""")


def _blank(match: re.Match) -> str:
    """Remove a span but keep its line breaks, so reported line numbers stay right."""
    return "\n" * match.group(0).count("\n")


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of Chinese in a template that does not go through {% translate %} / {% blocktranslate %}.

    Visible text and attribute values (placeholder, aria-label, title, data-confirm …) must carry no
    CJK character once translate blocks, tags, variables and comments are removed. Inside the
    remaining tags and variables, a string literal with Chinese words (e.g. ``|default:"系统"``) is
    reported too — only ``{% translate "…" %}`` and ``|date:"Y年n月j日"`` formats may hold them.
    Punctuation in a filter argument (``|join:"、"``) is allowed.
    """
    problems: list[tuple[int, str]] = []
    text = COMMENT.sub(_blank, source)
    text = BLOCK_TRANSLATE.sub(_blank, text)

    def check_code(match: re.Match) -> str:
        code = match.group(0)
        if not TRANSLATE_TAG.match(code):
            for literal in LITERAL.finditer(DATE_ARGUMENT.sub("", code)):
                value = literal.group(1) if literal.group(1) is not None else literal.group(2)
                if IDEOGRAPH.search(value):
                    problems.append((text.count("\n", 0, match.start()) + 1, code))
        return _blank(match)

    text = TAG.sub(check_code, text)
    text = VARIABLE.sub(check_code, text)
    for number, line in enumerate(text.splitlines(), start=1):
        if CJK.search(line):
            problems.append((number, line.strip()))
    return sorted(problems)


def test_the_checker_finds_untranslated_text():
    assert untranslated('<p>{% translate "整改台账" %}</p>') == []
    assert untranslated('<p>{% blocktranslate with n=x|length %}共 {{ n }} 条{% endblocktranslate %}</p>') == []
    assert untranslated('<p title="{% translate "提示" %}">{{ a|join:"、" }}{{ d|date:"Y年n月j日" }}</p>') == []
    assert untranslated("{# 注释 #}<p>{{ x }}</p>") == []
    assert untranslated("<p>\n整改台账</p>") == [(2, "整改台账</p>")]
    assert untranslated('<nav aria-label="主导航"></nav>') == [(1, '<nav aria-label="主导航"></nav>')]
    assert untranslated("<p>{{ x }}。</p>") == [(1, "<p>。</p>")]
    assert untranslated('<p>{{ x|default:"系统" }}</p>') == [(1, '{{ x|default:"系统" }}')]
    assert untranslated('{% if x == "草稿" %}{% endif %}') == [(1, '{% if x == "草稿" %}')]


def test_templates_were_found():
    assert len(TEMPLATES) >= 20
    assert PACKAGE / "core" / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_chinese_string_in_templates_goes_through_i18n(path):
    problems = untranslated(path.read_text(encoding="utf-8"))
    assert not problems, f"untranslated Chinese in {path.relative_to(PACKAGE)}:\n" + "\n".join(
        f"  line {line}: {text}" for line, text in problems)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_templates_compile(path):
    parts = path.relative_to(PACKAGE).parts
    assert get_template("/".join(parts[parts.index("templates") + 1:]))


# --- the shipped catalogue -----------------------------------------------------------------------

def _po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file (no plural or context entries are used by Rectify)."""
    entries: dict[str, str] = {}
    key = None
    parts: dict[str, list[str]] = {}

    def flush():
        if "msgid" in parts:
            entries["".join(parts["msgid"])] = "".join(parts.get("msgstr", []))

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or not line:
            continue
        m = re.match(r'^(msgid|msgstr|msgctxt|msgid_plural)\s+(".*")$', line)
        if m:
            if m.group(1) == "msgid":
                flush()
                parts = {}
            key = m.group(1)
            parts[key] = [_unquote(m.group(2))]
        elif line.startswith('"') and key:
            parts[key].append(_unquote(line))
    flush()
    return entries


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), quoted[1:-1])


def test_shipped_catalogue_is_chinese_to_chinese_and_compiled():
    po = _po_entries(CATALOGUE / "django.po")
    assert len(po) > 300
    assert {k: v for k, v in po.items() if k and k != v} == {}
    with open(CATALOGUE / "django.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)._catalog
    assert {k for k in mo if isinstance(k, str) and k} == {k for k in po if k}, \
        "django.mo is out of date: run makemessages + compilemessages (docs/architecture.md, Language)"


def _template_msgids(source: str) -> set[str]:
    ids = {m.group(1) for m in re.finditer(r'\{%\s*translate\s+"([^"]*)"', source)}
    for m in BLOCK_TRANSLATE.finditer(source):
        body = m.group(2).replace("%", "%%")
        ids.add(re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", body))
    return ids


def test_catalogue_holds_every_template_string():
    po = _po_entries(CATALOGUE / "django.po")
    missing = {(str(p.relative_to(PACKAGE)), msgid) for p in TEMPLATES
               for msgid in _template_msgids(p.read_text(encoding="utf-8")) if msgid not in po}
    assert not missing, "run makemessages (docs/architecture.md, Language): " + repr(sorted(missing)[:10])


# --- a deployment's override catalogue -----------------------------------------------------------

def write_mo(path: Path, messages: dict[str, str]) -> None:
    """Write a GNU .mo catalogue (the layout of CPython's Tools/i18n/msgfmt.py)."""
    messages = {"": "Content-Type: text/plain; charset=UTF-8\nLanguage: zh_Hans\n", **messages}
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        k, v = key.encode("utf-8"), messages[key].encode("utf-8")
        offsets.append((len(ids), len(k), len(strs), len(v)))
        ids += k + b"\0"
        strs += v + b"\0"
    keystart = 7 * 4 + 16 * len(keys)
    valuestart = keystart + len(ids)
    koffsets, voffsets = [], []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    output = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    output += array.array("i", koffsets + voffsets).tobytes() + ids + strs
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(output)


def _reset_translations():
    trans_real._translations = {}
    trans_real._default = None
    translation.deactivate_all()
    translation.deactivate()


def test_write_mo_round_trips(tmp_path):
    write_mo(tmp_path / "x.mo", {"整改台账": "问题台账"})
    with open(tmp_path / "x.mo", "rb") as fh:
        assert gettext.GNUTranslations(fh).gettext("整改台账") == "问题台账"


def test_a_deployment_catalogue_changes_the_wording(world, settings, tmp_path):
    client = world.client("office_admin")
    before = client.get("/ledger/").content.decode()
    assert "整改台账" in _nav(before) and "问题台账" not in before

    # A province calls the ledger 问题台账 and a task's category 问题分类 (a lazy form label).
    write_mo(tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.mo", {"整改台账": "问题台账", "问题类别": "问题分类"})
    settings.LOCALE_PATHS = [tmp_path, *settings.LOCALE_PATHS]
    _reset_translations()
    try:
        page = client.get("/ledger/").content.decode()
        assert "问题台账" in _nav(page) and "整改台账" not in _nav(page)
        assert "<title>问题台账 · " in page
        assert "问题分类：</label>" in page
        # Everything not overridden still comes from the shipped catalogue, unchanged.
        assert "调度报送" in _nav(page) and "督办" in _nav(page)
    finally:
        settings.LOCALE_PATHS = settings.LOCALE_PATHS[1:]
        _reset_translations()
    assert "整改台账" in _nav(client.get("/ledger/").content.decode())


def _nav(page: str) -> str:
    return page.split('<nav aria-label="主导航">', 1)[1].split("</nav>", 1)[0]


def test_locale_dir_setting_puts_the_override_first(monkeypatch, tmp_path):
    import importlib

    import rectify.settings as settings_module

    monkeypatch.setenv("RECTIFY_LOCALE_DIR", str(tmp_path))
    monkeypatch.setenv("RECTIFY_DATA_DIR", str(tmp_path / "data"))
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.LOCALE_PATHS == [tmp_path, PACKAGE / "locale"]
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)
    assert settings_module.LOCALE_PATHS == [PACKAGE / "locale"] or "RECTIFY_LOCALE_DIR" in os.environ
