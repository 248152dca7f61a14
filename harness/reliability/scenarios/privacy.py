"""No personal data in any table: the contact person (联系人), phone number and e-mail address
printed in each announcement's footer stay in the raw PDF.

The names, phones and addresses to look for are read from the PDFs themselves (the real samples'
contacts and the bundled site's fictitious ones), then every column of every table and view, in
every schema, of the warehouse and the serving file is searched for them, and text columns also
for anything shaped like a phone number or an e-mail address."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

CONTACT = re.compile(r"联系人[:：]\s*(?P<name>[^\s（(]+)")
PHONE_LINE = re.compile(r"(?:联系)?电话[:：]\s*(?P<phone>[\d\-\s]{7,20}\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Mainland mobile numbers and landlines (area code, dash, 7-8 digits), standing on their own: not
# inside a longer number, a hex digest or an identifier.
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:1[3-9]\d{9}|0\d{2,3}-\d{7,8})(?![0-9A-Za-z])")
TEXT_TYPES = ("VARCHAR", "JSON")


@dataclass(frozen=True)
class Contacts:
    names: frozenset[str]
    phones: frozenset[str]
    emails: frozenset[str]

    @property
    def needles(self) -> frozenset[str]:
        return self.names | self.phones | self.emails


def contacts_in(texts: list[str]) -> Contacts:
    names, phones, emails = set(), set(), set()
    for text in texts:
        names |= {m["name"] for m in CONTACT.finditer(text)}
        phones |= {re.sub(r"\s", "", m["phone"]) for m in PHONE_LINE.finditer(text)}
        emails |= set(EMAIL.findall(text))
    return Contacts(frozenset(names), frozenset(phones), frozenset(emails))


def contacts_from_pdfs(pdfs: list[Path]) -> Contacts:
    from npl_assets.parsing import extract_text

    return contacts_in([extract_text(p.read_bytes(), p.name) for p in pdfs])


@dataclass
class PrivacyResult:
    databases: int = 0
    tables: int = 0
    cells: int = 0
    contacts: Contacts | None = None
    findings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"personal data: {f}" for f in self.findings]


def scan_database(path: Path, contacts: Contacts, result: PrivacyResult) -> None:
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            """select table_schema, table_name, column_name, data_type
               from information_schema.columns
               where table_catalog = current_database()
               order by 1, 2, ordinal_position"""
        ).fetchall()
        tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type in columns:
            tables.setdefault((schema, table), []).append((column, data_type))
        result.databases += 1
        result.tables += len(tables)
        for (schema, table), cols in tables.items():
            select = ", ".join(f'cast("{c}" as varchar)' for c, _ in cols)
            for row in con.execute(f'select {select} from "{schema}"."{table}"').fetchall():
                for (column, data_type), value in zip(cols, row, strict=True):
                    if value is None:
                        continue
                    result.cells += 1
                    where = f"{path.name}:{schema}.{table}.{column}"
                    hits = [n for n in contacts.needles if n in value]
                    if data_type.upper().startswith(TEXT_TYPES):
                        hits += PHONE.findall(value) + EMAIL.findall(value)
                    for hit in sorted(set(hits)):
                        result.findings.append(f"{where}: {hit!r} in {value[:80]!r}")
    finally:
        con.close()


def run_privacy_scan(databases: list[Path], contacts: Contacts) -> PrivacyResult:
    result = PrivacyResult(contacts=contacts)
    if not contacts.names or not contacts.phones or not contacts.emails:
        result.findings.append(f"found no contact details to look for in the PDFs: {contacts}")
    for path in databases:
        scan_database(path, contacts, result)
    return result
