"""Cell values as text: the normalised forms used for matching, free text as written, and the
quote that keeps a spreadsheet from running a cell as a formula (neutralise/unneutralise).

Values used for matching (codes, unit and leader names, dates, categories, headers) are NFKC
normalised; free text (problem, target, measures, notes) is kept as written apart from trimming,
since NFKC would turn Chinese full-width punctuation (，：；（）) into ASCII.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

WS = re.compile(r"\s+")
PAREN = re.compile(r"\([^()]*\)")  # a parenthesised note, after NFKC turned （） into ()

def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def key_of(value: str) -> str:
    """Matching key: NFKC, no whitespace anywhere, lower case."""
    return WS.sub("", nfkc(value)).lower()


def cell_text(value) -> str:
    """A cell as text: numbers without a spurious ".0", dates as ISO, None as ""."""
    if type(value) is str:  # most cells: tested first, by exact type (a workbook's 100,000s of cells)
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    return str(value)


def free_text(value) -> str:
    """Free text as written: trimmed, line endings unified, a neutralising quote removed."""
    text = cell_text(value)
    if "\r" in text or "\u00a0" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.strip()
    if text.startswith("'"):
        text = unneutralise(text).strip()
    return text


def short_text(value) -> str:
    """A one-line value used for matching (code, name): NFKC, trimmed, single spaces."""
    return WS.sub(" ", nfkc(unneutralise(cell_text(value).strip()))).strip()


def blank(v) -> bool:
    if type(v) is str:  # most cells: by exact type first, as cell_text
        return not v.strip()
    return v is None or (isinstance(v, str) and not v.strip())


# --------------------------------------------------------------------------------------------
# Formula injection (CSV/formula injection, OWASP): a cell beginning with = + - @ is prefixed with
# a quote on export; import removes exactly that quote again. A value that already begins with
# quotes followed by such a character gets one more, so the mapping is reversible.

_DANGEROUS = re.compile(r"^'*[=+\-@\t\r]")


def neutralise(text: str) -> str:
    return "'" + text if text and _DANGEROUS.match(text) else text


def unneutralise(text: str) -> str:
    return text[1:] if text.startswith("'") and _DANGEROUS.match(text[1:]) else text
