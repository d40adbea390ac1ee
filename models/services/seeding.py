"""The standard groups of letter 60/CNTT, and demo data for the embedded default."""

from __future__ import annotations

import csv
import secrets
from datetime import datetime
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.groups import Group, JoinPolicy, Membership, MembershipSource, MembershipState, PostPolicy
from models.people import Organisation, OrganisationKind, Person, Position
from models.services.people import get_or_add_person

MINISTRY = "Bộ Giáo dục và Đào tạo"
IT_DEPARTMENT = "Cục Công nghệ thông tin"


def standard_groups() -> list[dict[str, str]]:
    """The eleven groups of letter 60/CNTT (models/data/groups.csv, from shared/groups.csv)."""
    with resources.files("models.data").joinpath("groups.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ensure_ministry(session: Session, public_email: str) -> Organisation:
    ministry = session.scalar(select(Organisation).where(Organisation.kind == OrganisationKind.MINISTRY))
    if ministry is None:
        ministry = Organisation(name=MINISTRY, kind=OrganisationKind.MINISTRY, public_email=public_email)
        session.add(ministry)
        session.add(Organisation(name=IT_DEPARTMENT, kind=OrganisationKind.MINISTRY_UNIT, parent=ministry))
        session.flush()
    return ministry


def ensure_standard_groups(session: Session, owner: Organisation) -> list[Group]:
    """Create the standard groups that do not exist yet; leave existing ones as administrators set them."""
    existing = {g.slug: g for g in session.scalars(select(Group))}
    groups = []
    for row in standard_groups():
        group = existing.get(row["slug"])
        if group is None:
            group = Group(
                slug=row["slug"],
                name_vi=row["name_vi"],
                name_en=row["name_en"],
                audience_vi=row["audience_vi"],
                registration_local=row["registration_address"],
                owner=owner,
                join_policy=JoinPolicy.CONFIRM,
                post_policy=PostPolicy.ANNOUNCE,
            )
            session.add(group)
        groups.append(group)
    session.flush()
    return groups


DEMO_PEOPLE = (
    # (email local part, name, organisation, position, groups)
    ("giamdoc.sohanoi", "Trần Văn Bình", "Sở GD&ĐT Hà Nội", Position.DIRECTOR, ("so",)),
    ("vanthu.sohanoi", "Nguyễn Thị Lan", "Sở GD&ĐT Hà Nội", Position.CLERK, ("so",)),
    ("vanthu.badinh", "Lê Thu Hà", "Phòng GD&ĐT quận Ba Đình", Position.CLERK, ("phong",)),
    ("gv.chuvanan", "Phạm Minh Đức", "Trường THPT Chu Văn An", Position.TEACHER, ("thpt",)),
)


def add_demo_data(session: Session, domain: str, now: datetime) -> None:
    """A Sở, a Phòng, a school and a few active members, so a newcomer sees a living system."""
    ministry = ensure_ministry(session, f"cuccntt@{domain}")
    province = _organisation(session, "Sở GD&ĐT Hà Nội", OrganisationKind.PROVINCE, ministry)
    district = _organisation(session, "Phòng GD&ĐT quận Ba Đình", OrganisationKind.DISTRICT, province)
    _organisation(session, "Trường THPT Chu Văn An", OrganisationKind.SCHOOL, province)
    _organisation(session, "Trường THCS Giảng Võ", OrganisationKind.SCHOOL, district)
    groups = {g.slug: g for g in session.scalars(select(Group))}
    for local, name, organisation, position, slugs in DEMO_PEOPLE:
        person = get_or_add_person(session, f"{local}@demo.edu.vn", name)
        person.organisation = session.scalar(select(Organisation).where(Organisation.name == organisation))
        person.position = position
        for slug in slugs:
            _active_member(session, person, groups[slug], now)


def _organisation(session: Session, name: str, kind: OrganisationKind, parent: Organisation) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        found = Organisation(name=name, kind=kind, parent=parent)
        session.add(found)
        session.flush()
    return found


def _active_member(session: Session, person: Person, group: Group, now: datetime) -> None:
    exists = session.scalar(
        select(Membership).where(Membership.person_id == person.id, Membership.group_id == group.id)
    )
    if exists is None:
        session.add(
            Membership(
                person=person,
                group=group,
                state=MembershipState.ACTIVE,
                source=MembershipSource.IMPORT,
                unsubscribe_nonce=secrets.token_hex(8),
                requested_at=now,
                confirmed_at=now,
                updated_at=now,
            )
        )
