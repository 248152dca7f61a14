"""Personal data stays in the raw PDFs (issue 7): after the full pipeline on the bundled site,
no table in any schema of the warehouse or the serving file holds a contact name (联系人), phone
number or e-mail address. The names, phones and addresses are read from the PDFs themselves:
the real samples' contacts and the bundled site's fictitious ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reliability.scenarios.privacy import (
    Contacts,
    contacts_from_pdfs,
    contacts_in,
    run_privacy_scan,
)


@pytest.fixture(scope="module")
def contacts(samples_dir: Path, built_site: Path) -> Contacts:
    generated = sorted(built_site.rglob("*.pdf"))
    return contacts_from_pdfs(sorted(samples_dir.glob("*.pdf")) + generated[:3] + generated[-3:])


def test_the_contacts_are_found_in_the_pdfs(contacts: Contacts) -> None:
    # Two real contacts and the site's one fictitious contact; the scan below looks for these.
    assert len(contacts.names) == len(contacts.phones) == len(contacts.emails) == 3


def test_no_table_holds_personal_data(full_pipeline: dict, contacts: Contacts) -> None:
    result = run_privacy_scan([full_pipeline["db"], full_pipeline["serving"]], contacts)
    assert result.findings == []
    assert result.databases == 2 and result.tables >= 15 and result.cells > 10_000


def test_the_scan_finds_what_it_looks_for(tmp_path: Path, contacts: Contacts) -> None:
    import duckdb

    db = tmp_path / "leak.duckdb"
    name = sorted(contacts.names)[0]
    with duckdb.connect(str(db)) as con:
        con.execute("create schema ops")
        con.execute("create table ops.notes (note varchar, n bigint)")
        con.execute(
            "insert into ops.notes values (?, 1), ('call 13800138000 or mail a.b@c.cn', 2),"
            " ('sha 6fb97f7294ae04b2b1a701b6ba34d2e9d9a8cf9bc19306801160a02c602c3c81', 3)",
            [f"联系人{name}"],
        )
    findings = run_privacy_scan([db], contacts).findings
    assert len(findings) == 3 and all("ops.notes.note" in f for f in findings)
    assert contacts_in(["联系人：李四\n联系电话：0755-1234567"]).phones == {"0755-1234567"}
