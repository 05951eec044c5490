"""The layout sets its paragraph styles by id (docx_layout.set_style, a speed-up for documents rendered by
the thousand in a dossier): the XML must be what python-docx writes for the style's name."""

from __future__ import annotations

from lxml import etree

from rectify.documents.docx_layout import STYLE_IDS, OfficialDocument, set_style


def test_set_style_writes_what_python_docx_writes():
    doc = OfficialDocument(title_for_properties="t", author="a")
    for name in STYLE_IDS:
        ours, theirs = doc.doc.add_paragraph("x"), doc.doc.add_paragraph("x")
        set_style(ours, name)
        theirs.style = name
        assert etree.tostring(ours._p) == etree.tostring(theirs._p), name
        assert ours.style.name == doc.doc.styles[name].name
