"""Plan document (整改方案, .txt/.docx/pasted text) → proposed structure for the ledger.

Pure Python (python-docx for .docx); no Django. See docs/planparse.md.
"""

from .model import Node, PlanParse, PlanParseError
from .parser import parse_plan

__all__ = ["Node", "PlanParse", "PlanParseError", "parse_plan"]
