"""Publishing on the web, and the unit's answered / not-answered panel."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from models import Delivery, Notice, Organisation, db, utcnow
from models.people import OrganisationKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.roles import grant
from models.services.webposts import reply_on_web
from tests.factories import make_member
from tests.test_forum import csrf, sign_in


def test_publisher_publishes_on_the_web_and_follows_the_answers(make_app):
    client = make_app().test_client()
    unit = Organisation(name="Vụ Giáo dục Trung học", kind=OrganisationKind.MINISTRY_UNIT)
    hanoi = Organisation(name="Sở GD&ĐT Hà Nội", kind=OrganisationKind.PROVINCE)
    db.session.add_all([unit, hanoi])
    publisher = make_member("VuGDTrH", "so")
    publisher.organisation = unit
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    clerk = make_member("VanThu", "so")
    clerk.organisation = hanoi
    db.session.commit()
    sign_in(client, publisher)
    page = client.get("/thong-bao/moi").get_data(as_text=True)
    assert "Trường THPT" not in page, "only the groups this person may publish to"
    deadline = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT17:00")
    form = {
        "csrf_token": csrf(page),
        "groups": "so",
        "kind": "yeu_cau_bao_cao",
        "title": "Báo cáo sơ kết học kỳ I",
        "body": "Đề nghị các Sở gửi báo cáo.",
        "deadline": deadline,
        "files": (io.BytesIO(b"%PDF-1.4 mau"), "Mẫu báo cáo.pdf"),
    }
    done = client.post("/thong-bao/moi", data=form, content_type="multipart/form-data")
    assert done.status_code == 302
    notice = db.session.scalar(select(Notice))
    assert notice.unit.name == "Vụ Giáo dục Trung học" and notice.answer_required
    assert [a.filename for a in notice.post.attachments] == ["Mẫu báo cáo.pdf"]
    assert db.session.scalar(select(Delivery).where(Delivery.recipient == clerk.email)).template == "notice"

    thread = client.get(done.location).get_data(as_text=True)
    assert "Yêu cầu báo cáo" in thread and "Hạn chót" in thread
    assert "Sở GD&amp;ĐT Hà Nội" in thread and "Chưa trả lời</strong> (1 người nhận)" in thread
    reply_on_web(
        db.session,
        notice.thread,
        notice.post,
        clerk,
        "Sở Hà Nội đã gửi.",
        domain="nhomthu.test",
        now=utcnow(),
    )
    db.session.commit()
    thread = client.get(done.location).get_data(as_text=True)
    assert "Đã trả lời" in thread and "Chưa trả lời" not in thread
    assert "Báo cáo sơ kết học kỳ I" in client.get("/nhom/so").get_data(as_text=True)


def test_a_deadline_is_required_when_an_answer_is_and_only_publishers_publish(make_app):
    client = make_app().test_client()
    publisher = make_member("VanPhong", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    teacher = make_member("GiaoVien", "so")
    db.session.commit()
    sign_in(client, publisher)
    page = client.get("/thong-bao/moi").get_data(as_text=True)
    form = {"csrf_token": csrf(page), "groups": "so", "kind": "yeu_cau_phuc_dap", "title": "T", "body": "B"}
    refused = client.post("/thong-bao/moi", data=form)
    assert refused.status_code == 400 and "hạn chót" in refused.get_data(as_text=True)
    bad_file = {**form, "kind": "thong_bao", "files": (io.BytesIO(b"MZ"), "virus.exe")}
    assert client.post("/thong-bao/moi", data=bad_file, content_type="multipart/form-data").status_code == 400
    assert db.session.scalar(select(Notice)) is None
    client.post("/dang-xuat", data={"csrf_token": csrf(page)})
    sign_in(client, teacher)
    assert client.get("/thong-bao/moi").status_code == 403
