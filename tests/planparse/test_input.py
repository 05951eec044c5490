"""Input formats, encodings, hostile input and the command line."""

from __future__ import annotations

import io
import json
import os
import random
import zipfile

import pytest

from rectify.planparse import PlanParseError, parse_plan
from rectify.planparse.cli import main

from .helpers import SEED, fixture_bytes

THREE = "plan_three_levels.txt"


def structure(plan):
    return [(m["path"], m["title"]) for m in plan.measures], [t["indicator"] for t in plan.targets]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_give_the_same_parse(encoding):
    text = fixture_bytes(THREE).decode("utf-8")
    plan = parse_plan(text.encode(encoding), filename="plan.txt")
    assert structure(plan) == structure(parse_plan(text))
    assert plan.source["kind"] == "txt"


def test_pasted_text_with_windows_line_ends_and_indentation():
    text = fixture_bytes(THREE).decode("utf-8")
    pasted = "\r\n".join("\u3000\u3000" + line for line in text.split("\n"))
    assert structure(parse_plan(pasted)) == structure(parse_plan(text))


def test_seed_as_pasted_str_and_as_bytes_agree():
    assert parse_plan(SEED.read_text(encoding="utf-8")).to_dict()["sections"] == \
        parse_plan(SEED.read_bytes()).to_dict()["sections"]


def test_not_a_docx():
    with pytest.raises(PlanParseError, match="docx"):
        parse_plan(os.urandom(2048), filename="plan.docx")


def test_zip_that_is_not_a_docx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("hello.txt", "不是 Word 文档")
    with pytest.raises(PlanParseError, match="word/document.xml"):
        parse_plan(buffer.getvalue(), filename="plan.docx")


def test_legacy_doc_refused():
    with pytest.raises(PlanParseError, match=".doc"):
        parse_plan(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, filename="plan.doc")


@pytest.mark.parametrize("source", [b"", b"   \n\n\t", "", "  \n \u3000 "])
def test_empty_input(source):
    with pytest.raises(PlanParseError, match="空"):
        parse_plan(source, filename="plan.txt")


def test_twenty_megabytes_of_noise_is_refused_by_size():
    with pytest.raises(PlanParseError, match="过大"):
        parse_plan(os.urandom(20 * 1024 * 1024), filename="noise.txt")


def test_binary_noise_under_the_cap():
    with pytest.raises(PlanParseError):
        parse_plan(os.urandom(1024 * 1024))


def test_chinese_looking_noise_has_no_structure():
    rng = random.Random(7)
    # common characters, numerals, punctuation and line breaks: the raw material of a plan
    alphabet = "的一二三四五六七八九十、。，（）()1234567890.整改措施督察生态环境保护水大气\n"
    noise = "".join(rng.choices(alphabet, k=1_000_000))
    with pytest.raises(PlanParseError, match="结构"):
        parse_plan(noise)


def test_rare_character_noise_is_refused():
    rng = random.Random(3)
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(200_000))
    with pytest.raises(PlanParseError):
        parse_plan(noise)


def test_prose_without_numbering_is_refused():
    with pytest.raises(PlanParseError, match="结构"):
        parse_plan("今天天气很好，我们去公园散步。公园里有很多人在锻炼身体。")


def test_overlong_pasted_text_is_refused():
    with pytest.raises(PlanParseError, match="过长"):
        parse_plan("一、总体要求。" * 700_000)


def test_cli_prints_json(capsys):
    assert main([str(SEED)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["sections"]) == 5
    assert len(data["measures"]) == 23
    assert data["measures"][0]["suggested_category"]["suggestion"] is True


def test_cli_reports_errors_in_chinese(tmp_path, capsys):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip at all")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Word" in err and "错误" in err
    assert main([str(tmp_path / "missing.txt")]) == 2
    assert "找不到文件" in capsys.readouterr().err


def test_cli_reads_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(fixture_bytes(THREE)), encoding="utf-8"))
    assert main(["-"]) == 0
    assert len(json.loads(capsys.readouterr().out)["measures"]) == 7
