"""Rosters (Circular 37: each Sở registers its director's and clerk's addresses): a CSV or XLSX file of
members, checked line by line and added without confirmation, each told they were added and how to leave."""

from __future__ import annotations

import csv
import io
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import InvalidAddress
from models.groups import Group, Membership, MembershipSource, MembershipState
from models.people import Organisation, OrganisationKind, Position
from models.services import audit, outbox
from models.services.people import clean_name, get_or_add_person, normalise_address
from models.services.search import fold

COLUMNS = {  # folded header → field
    "email": "email",
    "e-mail": "email",
    "dia chi thu": "email",
    "thu dien tu": "email",
    "dia chi email": "email",
    "name": "name",
    "ho ten": "name",
    "ho va ten": "name",
    "ten": "name",
    "organisation": "organisation",
    "organization": "organisation",
    "don vi": "organisation",
    "co quan": "organisation",
    "position": "position",
    "chuc vu": "position",
    "vi tri": "position",
}
POSITIONS = {
    "giam doc": Position.DIRECTOR,
    "director": Position.DIRECTOR,
    "pho giam doc": Position.DEPUTY,
    "deputy": Position.DEPUTY,
    "van thu": Position.CLERK,
    "clerk": Position.CLERK,
    "can bo": Position.OFFICER,
    "chuyen vien": Position.OFFICER,
    "officer": Position.OFFICER,
    "giao vien": Position.TEACHER,
    "teacher": Position.TEACHER,
}
KINDS = (
    ("so ", OrganisationKind.PROVINCE),
    ("phong ", OrganisationKind.DISTRICT),
    ("truong ", OrganisationKind.SCHOOL),
)


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    name: str
    organisation: str
    position: Position | None


@dataclass
class RosterReport:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)


def read_table(data: bytes, filename: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by field) from a CSV (UTF-8 with or without BOM, or Windows-1258) or XLSX file."""
    raw_rows = _xlsx_rows(data) if filename.lower().endswith(".xlsx") else _csv_rows(data)
    header: list[str] | None = None
    for line, cells in raw_rows:
        values = [unicodedata.normalize("NFC", str(c or "")).strip() for c in cells]
        if header is None:
            header = [COLUMNS.get(fold(v).strip(), "") for v in values]
            if "email" not in header:
                raise ValueError("dòng 1: không thấy cột email (no email column in the header)")
            continue
        if any(values):
            yield line, {name: value for name, value in zip(header, values, strict=False) if name}


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("latin-1")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:  # one column, or nothing to go by: plain commas
        dialect = csv.excel
    yield from enumerate(csv.reader(io.StringIO(text), dialect), start=1)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield line, ["" if c is None else str(c) for c in cells]


def check_rows(rows: Iterator[tuple[int, dict[str, str]]], report: RosterReport) -> list[RosterRow]:
    good: list[RosterRow] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            email = normalise_address(row.get("email", ""))
        except InvalidAddress:
            report.problems.append((line, f"địa chỉ thư không hợp lệ: '{row.get('email', '')}'"))
            continue
        if email in seen:
            report.problems.append((line, f"{email} đã có ở dòng {seen[email]}"))
            continue
        seen[email] = line
        position = row.get("position", "")
        known = POSITIONS.get(fold(position).strip()) if position else None
        if position and known is None:
            report.problems.append(
                (line, f"chức vụ không rõ: '{position}' (giám đốc, phó giám đốc, văn thư, …)")
            )
            continue
        good.append(
            RosterRow(line, email, clean_name(row.get("name", "")), row.get("organisation", ""), known)
        )
    return good


def import_roster(
    session: Session,
    group: Group,
    rows: list[RosterRow],
    *,
    actor: str,
    domain: str,
    now: datetime,
    dry_run: bool = False,
    report: RosterReport | None = None,
) -> RosterReport:
    report = report or RosterReport()
    for row in rows:
        person = get_or_add_person(session, row.email, row.name)
        if row.organisation:
            person.organisation = _organisation(session, row.organisation)
        if row.position:
            person.position = row.position
        membership = session.scalar(
            select(Membership).where(Membership.person_id == person.id, Membership.group_id == group.id)
        )
        if membership is not None and membership.state == MembershipState.ACTIVE:
            report.already.append(row.email)
            continue
        report.added.append(row.email)
        if dry_run:
            continue
        if membership is None:
            membership = Membership(
                person=person,
                group=group,
                source=MembershipSource.IMPORT,
                requested_at=now,
                state=MembershipState.ACTIVE,
                unsubscribe_nonce="",
            )
            session.add(membership)
        membership.state, membership.source, membership.confirmed_at = (
            MembershipState.ACTIVE,
            MembershipSource.IMPORT,
            now,
        )
        membership.unsubscribe_nonce = secrets.token_hex(8)
        session.flush()
        audit.record(session, actor, "membership.import", membership, group=group.slug)
        outbox.enqueue(
            session,
            key=f"added:{membership.id}:{membership.unsubscribe_nonce}",
            recipient=person.email,
            person=person,
            template="added",
            domain=domain,
            now=now,
            params={"group": group.slug, "membership": membership.id},
        )
    return report


def _organisation(session: Session, name: str) -> Organisation:
    clean = unicodedata.normalize("NFC", " ".join(name.split()))
    found = session.scalar(select(Organisation).where(Organisation.name == clean))
    if found is None:
        folded = fold(clean) + " "
        kind = next((k for prefix, k in KINDS if folded.startswith(prefix)), OrganisationKind.OTHER)
        found = Organisation(name=clean, kind=kind)
        session.add(found)
        session.flush()
    return found
