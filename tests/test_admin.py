"""A Sở administers its own groups and people; the ministry's administrators see everything."""

from __future__ import annotations

from sqlalchemy import select

from models import Group, Organisation, Role, db
from models.people import OrganisationKind
from models.roles import RoleName
from models.services.roles import grant
from tests.factories import make_member
from tests.test_forum import csrf, sign_in


def province(name: str) -> Organisation:
    ministry = db.session.scalar(select(Organisation).where(Organisation.kind == OrganisationKind.MINISTRY))
    found = Organisation(name=name, kind=OrganisationKind.PROVINCE, parent=ministry)
    db.session.add(found)
    db.session.commit()
    return found


def test_a_so_creates_a_group_names_its_publisher_and_sees_only_its_own(make_app):
    client = make_app().test_client()
    hanoi, hue = province("Sở GD&ĐT Hà Nội"), province("Sở GD&ĐT Thừa Thiên Huế")
    officer = make_member("CanBoSo")
    grant(db.session, officer, RoleName.ORGANISATION_ADMIN, organisation=hanoi)
    db.session.commit()
    sign_in(client, officer)
    page = client.get("/quan-tri/").get_data(as_text=True)
    assert "Sở GD&amp;ĐT Hà Nội" in page and "Thừa Thiên Huế" not in page
    assert "Trường THPT" not in page, "the ministry's groups are not the Sở's"
    form = {
        "csrf_token": csrf(page),
        "organisation": hanoi.id,
        "name": "Giáo viên Toán Hà Nội",
        "slug": "gv-toan-hanoi",
        "join": "confirm",
        "post": "members",
    }
    assert client.post("/quan-tri/nhom", data=form).status_code == 302
    group = db.session.scalar(select(Group).where(Group.slug == "gv-toan-hanoi"))
    assert group.owner_organisation_id == hanoi.id and group.registration_local == "dangky-gv-toan-hanoi"

    page = client.get("/quan-tri/nhom/gv-toan-hanoi").get_data(as_text=True)
    client.post(
        "/quan-tri/nhom/gv-toan-hanoi",
        data={
            "csrf_token": csrf(page),
            "action": "add_role",
            "email": "vanthu@hanoi.edu.vn",
            "role": "publisher",
        },
    )
    [role] = db.session.scalars(select(Role).where(Role.group_id == group.id)).all()
    assert (role.person.email, role.name) == ("vanthu@hanoi.edu.vn", RoleName.PUBLISHER)

    assert (
        client.post("/quan-tri/nhom", data={**form, "organisation": hue.id, "slug": "hue"}).status_code == 400
    )
    assert client.post("/quan-tri/nhom", data={**form, "slug": "dangky-x"}).status_code == 400, "reserved"
    assert client.get("/quan-tri/nhom/thpt").status_code == 403
    assert client.get("/quan-tri/hop-thu-di").status_code == 403


def test_the_ministry_administrator_sees_every_group_and_the_outbox(make_app):
    client = make_app().test_client()
    admin = make_member("QuanTri")
    grant(db.session, admin, RoleName.ADMIN)
    db.session.commit()
    sign_in(client, admin)
    page = client.get("/quan-tri/").get_data(as_text=True)
    assert "Trường THPT" in page and "Trường cao đẳng" in page
    outbox = client.get("/quan-tri/hop-thu-di").get_data(as_text=True)
    assert "sign_in" in outbox, "the sign-in link it was sent is listed"


def test_the_bounce_log_is_for_the_ministrys_administrators(make_app):
    from models import utcnow
    from models.services.bounces import record_bounce

    client = make_app().test_client()
    admin, member = make_member("QuanTri"), make_member("HayLoi")
    grant(db.session, admin, RoleName.ADMIN)
    record_bounce(
        db.session,
        member,
        None,
        permanent=True,
        source="dsn",
        detail="550 5.1.1 User unknown",
        domain="nhomthu.test",
        now=utcnow(),
    )
    db.session.commit()
    sign_in(client, admin)
    page = client.get("/quan-tri/thu-bi-tra-lai").get_data(as_text=True)
    assert member.email in page and "550 5.1.1 User unknown" in page and "lỗi vĩnh viễn" in page
