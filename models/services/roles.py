"""Questions of permission, answered from roles and memberships."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.groups import Group, Membership, MembershipState
from models.people import Organisation, Person
from models.roles import Role, RoleName


def roles_of(session: Session, person: Person) -> list[Role]:
    return list(session.scalars(select(Role).where(Role.person_id == person.id)))


def is_admin(session: Session, person: Person | None) -> bool:
    return person is not None and any(r.name == RoleName.ADMIN for r in roles_of(session, person))


def administers_organisation(
    session: Session, person: Person | None, organisation: Organisation | None
) -> bool:
    """A site admin, or an admin of this organisation or of one above it (a Sở above its Phòng)."""
    if person is None:
        return False
    if is_admin(session, person):
        return True
    mine = {r.organisation_id for r in roles_of(session, person) if r.name == RoleName.ORGANISATION_ADMIN}
    while organisation is not None:
        if organisation.id in mine:
            return True
        organisation = organisation.parent
    return False


def has_group_role(session: Session, person: Person | None, group: Group, *names: RoleName) -> bool:
    """Holds one of `names` for the group, or administers it (site admin, owner, or its organisation)."""
    if person is None:
        return False
    held = {r.name for r in roles_of(session, person) if r.group_id == group.id}
    return bool(held & {*names, RoleName.OWNER}) or administers_organisation(session, person, group.owner)


def can_moderate(session: Session, person: Person | None, group: Group) -> bool:
    return has_group_role(session, person, group, RoleName.MODERATOR)


def is_member(session: Session, person: Person | None, group: Group) -> bool:
    if person is None:
        return False
    state = session.scalar(
        select(Membership.state).where(Membership.person_id == person.id, Membership.group_id == group.id)
    )
    return state == MembershipState.ACTIVE


def grant(
    session: Session,
    person: Person,
    name: RoleName,
    *,
    group: Group | None = None,
    organisation: Organisation | None = None,
) -> Role:
    existing = session.scalar(
        select(Role).where(
            Role.person_id == person.id,
            Role.name == name,
            Role.group_id == (group.id if group else None),
            Role.organisation_id == (organisation.id if organisation else None),
        )
    )
    if existing is not None:
        return existing
    role = Role(person=person, name=name, group=group, organisation=organisation)
    session.add(role)
    session.flush()
    return role
