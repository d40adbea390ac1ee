"""Rosters: a Sở's director and clerk registered from a file, errors by line, no confirmation needed."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from models import Delivery, Membership, Organisation, Person, db
from models.groups import MembershipState
from models.people import OrganisationKind, Position
from models.roles import RoleName
from models.services.roles import grant
from tests.conftest import environment
from tests.factories import make_member
from tests.test_forum import csrf, sign_in

NHOMTHU = str(Path(sys.executable).parent / "nhomthu")
ROSTER = (
    "Email,Họ và tên,Đơn vị,Chức vụ\n"
    "giamdoc@hanoi.edu.vn,Trần Văn Bình,Sở GD&ĐT Hà Nội,Giám đốc\n"
    "vanthu@hanoi.edu.vn,Nguyễn Thị Lan,Sở GD&ĐT Hà Nội,văn thư\n"
    "khong-phai-dia-chi,Ai đó,Sở GD&ĐT Huế,Văn thư\n"
    "vanthu@hanoi.edu.vn,Trùng lặp,Sở GD&ĐT Hà Nội,Văn thư\n"
    "ketoan@hue.edu.vn,Lê Hoa,Sở GD&ĐT Huế,Kế toán trưởng\n"
)


def run(tmp_path, database_url, *arguments):
    env = {**os.environ, **environment(database_url, tmp_path)}
    return subprocess.run(
        [NHOMTHU, "members", "import", *arguments], env=env, capture_output=True, text=True, timeout=60
    )


def test_import_adds_members_without_confirmation_and_reports_bad_lines(make_app, database_url, tmp_path):
    make_app()
    path = tmp_path / "danh-sach.csv"
    path.write_bytes(ROSTER.encode("utf-8-sig"))  # as Excel saves "CSV UTF-8"

    checked = run(tmp_path, database_url, str(path), "--group", "so", "--dry-run")
    assert checked.returncode == 0 and "sẽ thêm 2, đã là thành viên 0, lỗi 3" in checked.stdout
    assert "dòng 4: địa chỉ thư không hợp lệ" in checked.stderr
    assert "dòng 5: vanthu@hanoi.edu.vn đã có ở dòng 3" in checked.stderr
    assert "dòng 6: chức vụ không rõ" in checked.stderr
    db.session.expire_all()
    assert db.session.scalars(select(Membership)).all() == [], "a dry run changes nothing"

    done = run(tmp_path, database_url, str(path), "--group", "so")
    assert "đã thêm 2" in done.stdout
    db.session.expire_all()
    clerk = db.session.scalar(select(Person).where(Person.email == "vanthu@hanoi.edu.vn"))
    assert (clerk.name, clerk.position, clerk.organisation.name) == (
        "Nguyễn Thị Lan",
        Position.CLERK,
        "Sở GD&ĐT Hà Nội",
    )
    assert clerk.organisation.kind == OrganisationKind.PROVINCE
    assert {m.state for m in db.session.scalars(select(Membership))} == {MembershipState.ACTIVE}
    told = db.session.scalars(select(Delivery).where(Delivery.template == "added")).all()
    assert sorted(d.recipient for d in told) == ["giamdoc@hanoi.edu.vn", "vanthu@hanoi.edu.vn"]
    assert "đã là thành viên 2" in run(tmp_path, database_url, str(path), "--group", "so").stdout


def test_the_same_from_an_xlsx_upload_on_the_admin_page(make_app):
    client = make_app().test_client()
    hanoi = Organisation(name="Sở GD&ĐT Hà Nội", kind=OrganisationKind.PROVINCE)
    db.session.add(hanoi)
    admin = make_member("QuanTri")
    grant(db.session, admin, RoleName.ADMIN)
    db.session.commit()
    sign_in(client, admin)
    book = Workbook()
    sheet = book.active
    for row in [line.split(",") for line in ROSTER.splitlines()]:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    page = client.get("/quan-tri/nhom/so/danh-sach").get_data(as_text=True)
    upload = {"csrf_token": csrf(page), "file": (io.BytesIO(data.getvalue()), "danh-sach.xlsx")}
    result = client.post("/quan-tri/nhom/so/danh-sach", data=upload, content_type="multipart/form-data")
    text = result.get_data(as_text=True)
    assert "Đã thêm 2" in text and "Dòng 4" in text and "Dòng 6" in text
    assert len(db.session.scalars(select(Membership)).all()) == 3  # the two, and the admin's own


def test_the_directory_lists_organisations_and_their_public_addresses(make_app):
    client = make_app().test_client()
    db.session.add(
        Organisation(
            name="Sở GD&ĐT Hà Nội", kind=OrganisationKind.PROVINCE, public_email="sogddt@hanoi.edu.vn"
        )
    )
    db.session.commit()
    page = client.get("/danh-ba").get_data(as_text=True)
    assert "sogddt@hanoi.edu.vn" in page and "Bộ Giáo dục và Đào tạo" in page
