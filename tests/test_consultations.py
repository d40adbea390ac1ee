"""A draft for comment from publishing to the synthesis: the period, comments by email and on the web,
the review queue, decisions, the exported files, and a second version of the draft."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from flask import current_app
from sqlalchemy import select

from mailgate.letters import render
from models import Delivery, Organisation, db, utcnow
from models.consultations import CommentState, Consultation, DraftComment, PeriodState, Verdict
from models.notices import NoticeKind
from models.people import OrganisationKind
from models.roles import RoleName
from models.services.comments import NotDrafter, decide
from models.services.consultations import (
    PeriodRules,
    PeriodTooShort,
    close_due,
    open_due,
    remind_consultations,
)
from models.services.exports import to_docx, to_xlsx
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.posts import NewAttachment
from models.services.roles import grant
from models.services.synthesis import synthesise
from models.services.versions import add_version, compare
from models.site import Site
from tests.conftest import BASE_URL, DOMAIN, SECRET, environment
from tests.drafts import LIBREOFFICE, docx_draft, draft, to_pdf
from tests.factories import make_mail, make_member, make_post
from tests.test_forum import csrf, sign_in

NHOMTHU = str(Path(sys.executable).parent / "nhomthu")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def organisation(name: str, kind: OrganisationKind = OrganisationKind.PROVINCE) -> Organisation:
    found = Organisation(name=name, kind=kind)
    db.session.add(found)
    return found


class Ministry:
    """The drafting unit (Vụ Giáo dục Trung học) and two Sở that must comment."""

    def __init__(self) -> None:
        self.unit = organisation("Vụ Giáo dục Trung học", OrganisationKind.MINISTRY_UNIT)
        self.drafter = make_member("VuGDTrH", "so")
        self.drafter.organisation = self.unit
        grant(db.session, self.drafter, RoleName.PUBLISHER, group=find_group(db.session, "so"))
        self.hanoi, self.hue = make_member("SoHaNoi", "so"), make_member("SoHue", "so")
        self.hanoi.organisation = organisation("Sở GD&ĐT Hà Nội")
        self.hue.organisation = organisation("Sở GD&ĐT Huế")
        db.session.commit()

    def publish(self, days: int = 25, **extra):
        notice = publish_notice(
            db.session,
            NoticeDraft(
                kind=NoticeKind.DRAFT_FOR_COMMENT,
                title="Dự thảo Thông tư quy định đánh giá học sinh THCS và THPT",
                body="Đề nghị các Sở góp ý dự thảo kèm theo.",
                groups=(find_group(db.session, "so"),),
                deadline=utcnow() + timedelta(days=days),
                attachments=(NewAttachment("du-thao-1.docx", DOCX, docx_draft("danh_gia_hoc_sinh_v1")),),
                **extra,
            ),
            self.drafter,
            unit=self.unit,
            domain=DOMAIN,
            now=utcnow(),
        )
        db.session.commit()
        return db.session.scalar(select(Consultation).where(Consultation.notice_id == notice.id))

    def reply(self, consultation, person, text: str, at=None):
        return make_post(
            text, subject="Re: Dự thảo", reply_to=consultation.notice.post, author=person, slug="so", at=at
        )


@pytest.fixture
def ministry(make_app):
    make_app()
    return Ministry()


def comments_of(post) -> list[DraftComment]:
    return list(db.session.scalars(select(DraftComment).where(DraftComment.post_id == post.id)))


def test_a_draft_notice_opens_its_period_and_mails_the_provisions_with_their_labels(ministry):
    consultation = ministry.publish()
    assert consultation.state == PeriodState.OPEN and consultation.document_type == "thong_tu"
    [version] = consultation.versions
    assert version.filename == "du-thao-1.docx" and len(version.provisions) == 47
    delivery = db.session.scalar(select(Delivery).where(Delivery.recipient == ministry.hanoi.email))
    body = render(delivery, db.session, Site(DOMAIN, BASE_URL, SECRET)).get_body(("plain",)).get_content()
    assert "LẤY Ý KIẾN DỰ THẢO: góp ý đến" in body
    assert "[điểm đ khoản 2 Điều 5] Việc xếp mức do giáo viên chủ nhiệm" in body
    assert f"{BASE_URL}/lay-y-kien/{consultation.id}" in body


def test_a_period_shorter_than_the_document_types_minimum_is_refused(ministry):
    with pytest.raises(PeriodTooShort) as refused:
        ministry.publish(days=5)
    assert refused.value.days == 20, "a thông tư: 20 days unless CONSULTATION_MIN_DAYS says otherwise"
    assert PeriodRules({"thong_tu": 3}).minimum("thong_tu") == timedelta(days=3)


def test_a_reply_by_email_becomes_one_comment_per_provision(ministry):
    consultation = ministry.publish()
    post = ministry.reply(
        consultation,
        ministry.hanoi,
        "Sở GD&ĐT Hà Nội góp ý như sau:\n\n"
        "1. Tại điểm a khoản 2 Điều 5, đề nghị làm rõ biểu hiện nổi bật.\n"
        "2. Đ8 K2: thời gian 90 phút là quá dài.\n"
        "3. Đề nghị bỏ khoản 3, vì trùng ý.\n\nTrân trọng.",
    )
    comments = comments_of(post)
    assert [(c.provision.citation if c.provision else "", c.state) for c in comments] == [
        ("điểm a khoản 2 Điều 5", CommentState.ANCHORED),
        ("khoản 2 Điều 8", CommentState.ANCHORED),
        ("khoản 3 Điều 8", CommentState.REVIEW),
    ]
    assert comments[2].confidence < 0.7, "item 2's article is only a guess for item 3"
    assert comments[0].organisation.name == "Sở GD&ĐT Hà Nội" and not comments[0].late


def test_the_drafting_unit_places_unsure_comments_from_its_review_queue(ministry):
    consultation = ministry.publish()
    post = ministry.reply(consultation, ministry.hue, "Đề nghị bỏ khoản 3 vì trùng với quy định hiện hành.")
    [unsure] = comments_of(post)
    client = current_app.test_client()
    sign_in(client, ministry.hue)
    assert client.get(f"/lay-y-kien/{consultation.id}/can-xem").status_code == 403
    sign_in(client, ministry.drafter)
    queue = client.get(f"/lay-y-kien/{consultation.id}/can-xem").get_data(as_text=True)
    assert "Trích dẫn đọc được: khoản 3" in queue and "trùng với quy định hiện hành" in queue
    done = client.post(
        f"/lay-y-kien/y-kien/{unsure.id}/vi-tri",
        data={"csrf_token": csrf(queue), "provision": "dieu-8-khoan-3"},
    )
    assert done.status_code == 302
    db.session.refresh(unsure)
    assert unsure.state == CommentState.ANCHORED and unsure.provision.citation == "khoản 3 Điều 8"
    assert "Không có ý kiến nào chờ xác định" in client.get(done.location).get_data(as_text=True)


def test_the_period_opens_and_closes_on_schedule_and_a_late_reply_is_kept_and_answered(ministry):
    consultation = ministry.publish(opens_at=utcnow() + timedelta(days=1))
    assert consultation.state == PeriodState.SCHEDULED
    assert open_due(db.session, utcnow()) == 0
    assert open_due(db.session, utcnow() + timedelta(days=1, minutes=1)) == 1
    assert close_due(db.session, utcnow() + timedelta(days=10)) == 0
    after = consultation.closes_at + timedelta(minutes=5)
    assert close_due(db.session, after) == 1 and consultation.state == PeriodState.CLOSED
    db.session.commit()
    post = ministry.reply(consultation, ministry.hue, "Khoản 1 Điều 10: đề nghị lùi sang năm 2028.", at=after)
    [late] = comments_of(post)
    assert late.late and late.provision.citation == "khoản 1 Điều 10"
    from models.services.consultations import answer_if_late

    letter = answer_if_late(db.session, post, DOMAIN, after)
    assert letter.template == "consultation_late" and letter.recipient == ministry.hue.email
    body = render(letter, db.session, Site(DOMAIN, BASE_URL, SECRET)).get_body(("plain",)).get_content()
    assert "vẫn được lưu lại" in body and "sau thời hạn" in body


def test_reminders_go_to_the_organisations_that_have_not_commented(ministry):
    consultation = ministry.publish(days=25)
    ministry.reply(consultation, ministry.hanoi, "Thống nhất với dự thảo.")
    near_the_end = consultation.closes_at - timedelta(days=1)
    assert remind_consultations(db.session, near_the_end, DOMAIN) == 1
    assert remind_consultations(db.session, near_the_end, DOMAIN) == 0, "once"
    [reminder] = db.session.scalars(select(Delivery).where(Delivery.template == "consultation_reminder"))
    assert reminder.recipient == ministry.hue.email


def test_decisions_and_the_synthesis_as_docx_and_xlsx(ministry, tmp_path):
    consultation = ministry.publish()
    hanoi = ministry.reply(
        consultation, ministry.hanoi, "1. Điều 8, khoản 2: 90 phút quá dài.\n2. Tại Điều 5a, bỏ khoản 2."
    )
    ministry.reply(consultation, ministry.hue, "Thống nhất với dự thảo, đề nghị ban hành sớm.")
    first, second = comments_of(hanoi)
    with pytest.raises(NotDrafter):
        decide(db.session, first, Verdict.ACCEPTED, "", ministry.hue, now=utcnow())
    decide(db.session, first, Verdict.ACCEPTED, "Sửa thành 45 đến 90 phút.", ministry.drafter, now=utcnow(),
           notify=True, domain=DOMAIN)  # fmt: skip
    decide(
        db.session, second, Verdict.EXPLAINED, "Giữ để thống nhất với Luật.", ministry.drafter, now=utcnow()
    )
    db.session.commit()
    told = db.session.scalar(select(Delivery).where(Delivery.template == "consultation_decision"))
    assert told.recipient == ministry.hanoi.email
    letter = render(told, db.session, Site(DOMAIN, BASE_URL, SECRET)).get_body(("plain",)).get_content()
    assert "Kết quả: Tiếp thu" in letter and "Sửa thành 45 đến 90 phút." in letter

    synthesis = synthesise(db.session, consultation, utcnow())
    assert (synthesis.consulted, synthesis.answered, synthesis.comments) == (2, 2, 3)
    assert [r.provision for r in synthesis.by_provision] == ["khoản 2 Điều 5a", "khoản 2 Điều 8"], (
        "draft order"
    )

    document = Document(io.BytesIO(to_docx(synthesis)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN" in text and "Số cơ quan, đơn vị có ý kiến: 2" in text
    general, specific = document.tables
    assert [c.text for c in general.rows[0].cells][:4] == [
        "TT",
        "Điều, khoản",
        "Cơ quan, người góp ý",
        "Nội dung góp ý",
    ]
    assert "Sở GD&ĐT Huế" in general.rows[1].cells[2].text
    assert [c.text for c in specific.rows[2].cells][1:] == [
        "khoản 2 Điều 8",
        "SoHaNoi (Sở GD&ĐT Hà Nội)",
        "1. Điều 8, khoản 2: 90 phút quá dài.",
        "Tiếp thu",
        "Sửa thành 45 đến 90 phút.",
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(synthesis))).active
    rows = [[cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["Số ý kiến: 3"] in rows
    assert [3, "khoản 2 Điều 8", "SoHaNoi (Sở GD&ĐT Hà Nội)", "1. Điều 8, khoản 2: 90 phút quá dài.",
            "Tiếp thu", "Sửa thành 45 đến 90 phút."] in rows  # fmt: skip

    if LIBREOFFICE:
        exported = tmp_path / "tong-hop.docx"
        exported.write_bytes(to_docx(synthesis))
        pdf = to_pdf(exported)
        assert pdf.exists() and pdf.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF")


def test_the_web_page_shows_provisions_with_comment_links_and_takes_comments_and_decisions(ministry):
    consultation = ministry.publish()
    client = current_app.test_client()
    page = client.get(f"/lay-y-kien/{consultation.id}").get_data(as_text=True)
    assert 'id="dieu-5-khoan-2-diem-dd"' in page and "Góp ý điểm đ khoản 2 Điều 5" in page
    assert "Đang lấy ý kiến đến" in page and "Tải bản tổng hợp" not in page
    sign_in(client, ministry.hanoi)
    page = client.get(f"/lay-y-kien/{consultation.id}?dieu=dieu-7-khoan-2-diem-c").get_data(as_text=True)
    assert '<option value="dieu-7-khoan-2-diem-c" selected>' in page
    sent = client.post(
        f"/lay-y-kien/{consultation.id}/gop-y",
        data={"csrf_token": csrf(page), "provision": "dieu-7-khoan-2-diem-c", "text": "Nên là 05 điểm."},
    )
    assert sent.status_code == 302 and sent.location.endswith("#dieu-7-khoan-2-diem-c")
    [comment] = db.session.scalars(select(DraftComment))
    assert comment.provision.citation == "điểm c khoản 2 Điều 7" and comment.text.endswith("Nên là 05 điểm.")

    sign_in(client, ministry.drafter)
    page = client.get(f"/lay-y-kien/{consultation.id}").get_data(as_text=True)
    assert "Tải bản tổng hợp (DOCX)" in page and "Lưu quyết định" in page
    decided = client.post(
        f"/lay-y-kien/y-kien/{comment.id}/quyet-dinh",
        data={"csrf_token": csrf(page), "verdict": "khong_tiep_thu", "reason": "Giữ như dự thảo."},
    )
    assert decided.status_code == 302
    assert "Không tiếp thu</strong>: Giữ như dự thảo." in client.get(decided.location).get_data(as_text=True)
    exported = client.get(f"/lay-y-kien/{consultation.id}/tong-hop.xlsx")
    assert exported.status_code == 200 and exported.data[:2] == b"PK"
    thread = client.get(f"/chu-de/{consultation.notice.thread_id}").get_data(as_text=True)
    assert f"/lay-y-kien/{consultation.id}" in thread


def test_a_new_version_matches_renumbered_provisions_and_carries_open_comments(ministry):
    consultation = ministry.publish()
    post = ministry.reply(
        consultation,
        ministry.hanoi,
        "1. Điều 5a: nên gộp với điều trước.\n2. Khoản 2 Điều 8: 60 phút là đủ.\n3. Khoản 3 Điều 8 nên bỏ.",
    )
    on_5a, on_8_2, on_8_3 = comments_of(post)
    decide(db.session, on_8_3, Verdict.ACCEPTED, "Đã bỏ.", ministry.drafter, now=utcnow())
    second = add_version(
        db.session, consultation, "du-thao-2.txt", draft("danh_gia_hoc_sinh_v2").encode(), utcnow()
    )
    db.session.commit()
    assert on_5a.provision.citation == "Điều 7" and on_5a.provision.version_id == second.id, "renumbered"
    assert on_8_2.provision.citation == "khoản 2 Điều 10"
    assert on_8_3.provision.citation == "khoản 3 Điều 8", "decided comments stay where they were made"
    changes = {(c.old.citation if c.old else None, c.new.citation if c.new else None): c for c in compare(
        consultation.versions[0], second)}  # fmt: skip
    assert changes[("Điều 5a", "Điều 7")].status == "renumbered"
    assert changes[(None, "Điều 3")].status == "added"
    assert changes[("khoản 3 Điều 8", None)].status == "removed"
    timing = changes[("khoản 2 Điều 8", "khoản 2 Điều 10")]
    assert timing.status == "changed" and ("-", "60") in timing.pieces and ("+", "45") in timing.pieces
    rows = synthesise(db.session, consultation, utcnow()).by_provision
    assert [r.provision for r in rows] == ["Điều 7", "khoản 2 Điều 10", "khoản 3 Điều 8 (dự thảo 1)"]
    client = current_app.test_client()
    page = client.get(f"/lay-y-kien/{consultation.id}/so-sanh").get_data(as_text=True)
    assert "<del>60</del>" in page and "<ins>45</ins>" in page


def test_consult_export_command_writes_the_synthesis(ministry, database_url, tmp_path):
    consultation = ministry.publish()
    ministry.reply(consultation, ministry.hanoi, "Khoản 1 Điều 6: thêm môn Công nghệ.")
    output = tmp_path / "tong-hop.xlsx"
    env = {**os.environ, **environment(database_url, tmp_path)}
    result = subprocess.run(
        [NHOMTHU, "consult", "export", str(consultation.id), "--format", "xlsx", "--output", str(output)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "1 ý kiến, 1/2 đơn vị" in result.stdout
    rows = list(openpyxl.load_workbook(output).active.iter_rows(values_only=True))
    assert any(row[1] == "khoản 1 Điều 6" for row in rows)


def test_a_reply_by_email_after_the_close_is_kept_and_answered_politely(app, gate, smtp, imap):
    ministry = Ministry()
    consultation = ministry.publish()
    gate.drain()
    [copy] = smtp.to(ministry.hanoi.email)
    assert "[khoản 2 Điều 8] Thời gian làm bài kiểm tra" in copy.get_body(("plain",)).get_content()
    close_due(db.session, consultation.closes_at + timedelta(minutes=1))
    db.session.commit()
    imap.append(
        make_mail(
            ministry.hanoi.email,
            str(copy["Reply-To"]),
            subject=f"Re: {copy['Subject']}",
            body="1. Điểm a khoản 2 Điều 7: nên là 03 điểm.\n2. Khoản 2 Điều 8: 45 phút là đủ.",
        )
    )
    gate.drain()
    comments = db.session.scalars(select(DraftComment).order_by(DraftComment.id)).all()
    assert [(c.provision.citation, c.late) for c in comments] == [
        ("điểm a khoản 2 Điều 7", True),
        ("khoản 2 Điều 8", True),
    ]
    [answer] = smtp.to(ministry.hanoi.email)[1:]
    assert (
        answer["Subject"].startswith("Đã nhận góp ý sau thời hạn")
        and answer["Auto-Submitted"] == "auto-replied"
    )
