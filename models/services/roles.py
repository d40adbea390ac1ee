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
    return person is not None and _is_admin(roles_of(session, person))


def administers_organisation(
    session: Session, person: Person | None, organisation: Organisation | None
) -> bool:
    """A site admin, or an admin of this organisation or of one above it (a Sở above its Phòng)."""
    if person is None:
        return False
    roles = roles_of(session, person)
    return _is_admin(roles) or _within(_administered(roles), organisation)


def has_group_role(session: Session, person: Person | None, group: Group, *names: RoleName) -> bool:
    """Holds one of `names` for the group, or administers it (site admin, owner, or its organisation)."""
    if person is None:
        return False
    roles = roles_of(session, person)  # once: a thread page asks this of everyone signed in
    if _is_admin(roles) or {r.name for r in roles if r.group_id == group.id} & {*names, RoleName.OWNER}:
        return True
    administered = _administered(roles)
    return bool(administered) and _within(administered, group.owner)  # the owner is loaded only if needed


def _is_admin(roles: list[Role]) -> bool:
    return any(r.name == RoleName.ADMIN for r in roles)


def _administered(roles: list[Role]) -> set[int | None]:
    return {r.organisation_id for r in roles if r.name == RoleName.ORGANISATION_ADMIN}


def _within(organisations: set[int | None], organisation: Organisation | None) -> bool:
    """The organisation, or one above it, is among `organisations`."""
    while organisation is not None:
        if organisation.id in organisations:
            return True
        organisation = organisation.parent
    return False


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
