"""End to end with the default model: a fact in a Word table is answered and cited by section."""

from __future__ import annotations

import json

import pytest
from office_files import make_docx

from localagent.cli import main


@pytest.mark.model
def test_ask_answers_from_a_docx_table_and_cites_the_heading_path(tmp_path, default_model, capsys):
    docx = make_docx(tmp_path / "lease.docx")
    assert main(["index", str(docx), "--json"]) == 0
    capsys.readouterr()
    assert main(["search", "late payment fee", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)["results"][0]
    assert hit["file"] == str(docx) and hit["heading"] == "Tenancy Agreement > Payment > Fees"
    assert main(["ask", "--json", "How much is the late payment fee?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is True and "175" in data["answer"]
    citation = data["citations"][0]
    assert citation["file"] == str(docx) and citation["heading"] == "Tenancy Agreement > Payment > Fees"
    assert citation["place"].startswith("section “Tenancy Agreement > Payment > Fees”, paragraph")
    assert main(["ask", "How much is the late payment fee?"]) == 0
    assert f"[1] {docx}, section “Tenancy Agreement > Payment > Fees”, paragraph" in capsys.readouterr().out
