"""Administering groups: a Sở or Phòng creates groups for its people and names who publishes and moderates."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.groups import Group, JoinPolicy, PostPolicy
from models.people import Organisation, Person
from models.roles import Role, RoleName
from models.services import audit
from models.services.people import get_or_add_person
from models.services.roles import administers_organisation, grant, is_admin

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
# Local parts the gateway gives a meaning to: a group may not take them as its address.
RESERVED = ("dangky", "huydangky", "xacnhan", "traloi", "bounces", "noreply", "postmaster", "abuse", "admin")


class AdminRefused(Exception):
    """Why the change was not made, in words for the administrator."""


def organisations_of(session: Session, person: Person) -> list[Organisation]:
    """The organisations this person administers, with those below them."""
    everything = session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return [o for o in everything if administers_organisation(session, person, o)]


def groups_of(session: Session, person: Person) -> list[Group]:
    groups = session.scalars(select(Group).order_by(Group.id)).all()
    if is_admin(session, person):
        return list(groups)
    owned = {r.group_id for r in session.scalars(select(Role).where(Role.person_id == person.id))}
    return [g for g in groups if g.id in owned or administers_organisation(session, person, g.owner)]


def create_group(
    session: Session,
    actor: Person,
    organisation: Organisation,
    *,
    slug: str,
    name: str,
    audience: str = "",
    join_policy: JoinPolicy = JoinPolicy.CONFIRM,
    post_policy: PostPolicy = PostPolicy.MEMBERS,
) -> Group:
    if not administers_organisation(session, actor, organisation):
        raise AdminRefused("Bạn không quản trị đơn vị này.")
    slug = slug.strip().lower()
    if not _SLUG.match(slug) or slug.startswith(RESERVED):
        raise AdminRefused(
            "Địa chỉ nhóm chỉ gồm chữ thường không dấu, số và dấu gạch ngang, "
            "và không trùng địa chỉ hệ thống."
        )
    if session.scalar(select(func.count(Group.id)).where(func.lower(Group.slug) == slug)):
        raise AdminRefused(f"Đã có nhóm {slug}.")
    clean = unicodedata.normalize("NFC", name.strip())
    if not clean:
        raise AdminRefused("Nhóm cần có tên.")
    group = Group(
        slug=slug,
        name_vi=clean,
        name_en=clean,
        audience_vi=unicodedata.normalize("NFC", audience.strip()),
        registration_local=f"dangky-{slug}",
        owner=organisation,
        join_policy=join_policy,
        post_policy=post_policy,
    )
    session.add(group)
    session.flush()
    audit.record(session, f"web:{actor.email}", "group.create", group, organisation=organisation.name)
    return group


def set_role(session: Session, actor: Person, group: Group, address: str, name: RoleName) -> Role:
    _may_administer(session, actor, group)
    if name not in (RoleName.OWNER, RoleName.PUBLISHER, RoleName.MODERATOR):
        raise AdminRefused("Vai trò không hợp lệ cho một nhóm.")
    person = get_or_add_person(session, address)
    role = grant(session, person, name, group=group)
    audit.record(session, f"web:{actor.email}", "role.grant", role, person=person.email, role=name.value)
    return role


def remove_role(session: Session, actor: Person, group: Group, role_id: int) -> None:
    _may_administer(session, actor, group)
    session.execute(delete(Role).where(Role.id == role_id, Role.group_id == group.id))
    audit.record(session, f"web:{actor.email}", "role.remove", group, role=role_id)


def set_policies(session: Session, actor: Person, group: Group, join: JoinPolicy, post: PostPolicy) -> None:
    _may_administer(session, actor, group)
    group.join_policy, group.post_policy = join, post
    audit.record(session, f"web:{actor.email}", "group.policy", group, join=join.value, post=post.value)


def _may_administer(session: Session, actor: Person, group: Group) -> None:
    if group not in groups_of(session, actor):
        raise AdminRefused("Bạn không quản trị nhóm này.")
