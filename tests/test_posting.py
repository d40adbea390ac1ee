"""Every reply becomes the right post in the right thread: through the real Dovecot, from real clients."""

from __future__ import annotations

import email.utils
from pathlib import Path

from sqlalchemy import func, select

from mailgate.addresses import reply_address
from models import InboundMessage, Post, Thread, db, utcnow
from models.mail import DeliveryState
from models.services import outbox
from tests.conftest import DOMAIN
from tests.factories import address, make_mail, make_member, open_discussion, ours

DATA = Path(__file__).parent / "data" / "mail"


def posts() -> list[Post]:
    db.session.expire_all()
    return list(db.session.scalars(select(Post).order_by(Post.id)))


def outcome(message_id: str) -> tuple[str, str]:
    db.session.expire_all()
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.message_id == message_id))
    return row.outcome, row.reason or ""


def with_id(raw: bytes, message_id: str) -> bytes:
    """make_mail sets its own Message-ID; tests that need a known one replace it."""
    lines = [line for line in raw.split(b"\n") if not line.startswith(b"Message-ID:")]
    return f"Message-ID: {message_id}\n".encode() + b"\n".join(lines)


def post_mail(imap, sender, subject, body, message_id, to="thpt", **headers):
    imap.append(with_id(make_mail(sender, ours(to), subject=subject, body=body, **headers), message_id))


def test_member_reply_joins_the_thread_with_the_quote_trimmed(imap, gate):
    open_discussion()
    make_member("An"), make_member("Binh")
    post_mail(imap, address("An"), "Góp ý dự thảo Điều 5", "Kính gửi các thầy cô,\nXin góp ý.", "<a1@x>")
    reply = (
        "Đồng ý.\n\nVào lúc 09:12 22/11/2026, An <an@truong.edu.vn> đã viết:\n"
        "> Kính gửi các thầy cô,\n> Xin góp ý."
    )
    post_mail(imap, address("Binh"), "Re: Góp ý dự thảo Điều 5", reply, "<b1@x>", In_Reply_To="<a1@x>")
    gate.drain()
    first, second = posts()
    assert second.thread_id == first.thread_id and second.parent_id == first.id
    assert second.text == "Đồng ý."
    assert "> Xin góp ý." in second.quoted and "đã viết:" in second.quoted
    assert db.session.get(Thread, first.thread_id).post_count == 2


def test_reply_before_its_parent_is_reattached_when_the_parent_comes(imap, gate):
    open_discussion()
    make_member("An"), make_member("Binh"), make_member("Cuong")
    post_mail(imap, address("Binh"), "Re: Lịch họp", "Tôi dự được.", "<b1@x>", In_Reply_To="<a1@x>")
    post_mail(
        imap,
        address("Cuong"),
        "Re: Lịch họp",
        "Tôi cũng vậy.",
        "<c1@x>",
        In_Reply_To="<b1@x>",
        References="<a1@x> <b1@x>",
    )
    gate.drain()
    assert len({p.thread_id for p in posts()}) == 1, "the second reply found the first"
    post_mail(imap, address("An"), "Lịch họp", "Họp lúc 9 giờ thứ Hai.", "<a1@x>")
    gate.drain()
    parent, first, second = sorted(posts(), key=lambda p: p.message_id)
    assert first.parent_id == parent.id and second.parent_id == first.id
    assert {parent.thread_id, first.thread_id, second.thread_id} == {parent.thread_id}
    assert db.session.scalar(select(func.count(Thread.id))) == 1
    assert db.session.get(Thread, parent.thread_id).post_count == 3


def test_reply_without_headers_finds_its_thread_by_subject(imap, gate):
    open_discussion()
    make_member("An"), make_member("Binh")
    post_mail(imap, address("An"), "Kế hoạch năm học 2026-2027", "Nội dung kế hoạch.", "<a1@x>")
    post_mail(imap, address("Binh"), "TL: Kế hoạch năm học 2026-2027", "Nhất trí.", "<b1@x>")
    post_mail(imap, address("Binh"), "Kế hoạch năm học 2026-2027", "Một chủ đề mới cùng tên.", "<b2@x>")
    gate.drain()
    first, reply, fresh = posts()
    assert reply.thread_id == first.thread_id and reply.parent_id == first.id
    assert fresh.thread_id != first.thread_id, "without Re:/TL: the same subject starts a new topic"


def test_repeated_message_id_is_recognised_not_posted_twice(imap, gate):
    open_discussion()
    make_member("An")
    raw = with_id(make_mail(address("An"), ours("thpt"), subject="Thông tin", body="Một lần."), "<a1@x>")
    imap.append(raw)
    imap.append(raw.replace(b"Subject: ", b"X-Resent: yes\nSubject: "))
    gate.drain()
    assert len(posts()) == 1
    outcomes = [row.outcome for row in db.session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert outcomes == ["processed", "ignored"]


def test_post_from_a_non_member_is_held_with_the_reason(imap, gate):
    open_discussion()
    post_mail(imap, "la@gmail.com", "Xin hỏi", "Cho tôi hỏi về tuyển sinh.", "<z1@x>")
    gate.drain()
    [post] = posts()
    assert post.state == "held" and "không phải thành viên" not in post.state_reason
    assert "chưa là thành viên" in post.state_reason
    assert outcome("<z1@x>")[0] == "held"
    assert post.author.email == "la@gmail.com", "an unknown sender becomes a person"


def test_new_topic_in_an_announce_only_group_waits_for_a_moderator(imap, gate):
    make_member("An")
    post_mail(imap, address("An"), "Chủ đề mới", "Nội dung.", "<a1@x>")
    gate.drain()
    [post] = posts()
    assert post.state == "held" and "thông báo" in post.state_reason


def test_reply_by_key_finds_its_parent_even_when_the_client_drops_the_headers(imap, gate):
    open_discussion()
    make_member("An"), make_member("Binh")
    post_mail(imap, address("An"), "Thông báo lịch thi", "Lịch thi học kỳ I.", "<a1@x>")
    gate.drain()
    [notice] = posts()
    delivery = outbox.enqueue(
        db.session,
        key=f"post:{notice.id}",
        recipient=address("Binh"),
        template="post",
        domain=DOMAIN,
        now=utcnow(),
    )
    delivery.state = DeliveryState.SENT  # as if the notice had gone out to Binh
    db.session.commit()
    key_address = reply_address(delivery.id, gate.settings.site)
    imap.append(make_mail(address("Binh"), key_address, subject="Câu hỏi", body="Có thi bù không ạ?"))
    gate.drain()
    reply = posts()[-1]
    assert reply.parent_id == notice.id and reply.thread_id == notice.thread_id


def test_outlook_html_only_reply_is_read_trimmed_and_sanitised(imap, gate):
    open_discussion()
    make_member("An"), make_member("Binh")
    post_mail(imap, address("An"), "Báo cáo", "Đề nghị gửi báo cáo.", "<a1@x>")
    html = (
        "<html><body><p>Đã gửi báo cáo <b>đúng hạn</b>.</p><script>alert(1)</script>"
        '<img src="http://tracker.example/p.gif"><div style="border:none;border-top:solid #E1E1E1 1.0pt">'
        "<p><b>Từ:</b> An<br><b>Đã gửi:</b> Thứ Hai<br><b>Đến:</b> thpt<br><b>Chủ đề:</b> Báo cáo</p></div>"
        "<p>Đề nghị gửi báo cáo.</p></body></html>"
    )
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = address("Binh"), ours("thpt"), "RE: Báo cáo"
    message["Message-ID"], message["In-Reply-To"] = "<b1@x>", "<a1@x>"
    message.set_content(html, subtype="html")
    imap.append(message.as_bytes())
    gate.drain()
    reply = posts()[-1]
    assert reply.text == "Đã gửi báo cáo đúng hạn."
    assert "Từ: An" in reply.quoted
    assert "<script" not in reply.html and "alert" not in reply.html and "tracker.example" not in reply.html
    assert "<b>đúng hạn</b>" in reply.html


def test_every_client_fixture_becomes_a_post(imap, gate):
    """The quote-trimming fixtures (Gmail, Outlook, Zimbra, Thunderbird, phones …), sent as replies."""
    open_discussion()
    make_member("An")
    cases = sorted((DATA / "trim").glob("*.expected.txt"))
    for n, expected in enumerate(cases):
        body = expected.with_name(expected.name.replace(".expected.txt", ".txt")).read_text()
        post_mail(imap, address("An"), f"Re: Trường hợp {n}", body, f"<case{n}@x>")
    gate.drain()
    texts = {p.message_id: p.text for p in posts()}
    for n, expected in enumerate(cases):
        assert texts[f"<case{n}@x>"] == expected.read_text().rstrip("\n"), expected.name


def test_attachments_are_stored_and_served_with_safe_headers(imap, gate, app):
    open_discussion()
    make_member("An")
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = address("An"), ours("thpt"), "Tài liệu họp"
    message["Message-ID"] = "<a1@x>"
    message.set_content("Gửi các thầy cô tài liệu.")
    message.add_alternative('<p>Gửi các thầy cô tài liệu.</p><img src="cid:logo@x">', subtype="html")
    message.get_payload()[1].add_related(
        b"\x89PNG\r\n\x1a\n", "image", "png", cid="<logo@x>", filename="logo.png"
    )
    message.add_attachment(b"%PDF-1.4 bien ban", "application", "pdf", filename="Biên bản họp.pdf")
    message.add_attachment(b"<script>alert(1)</script>", "text", "html", filename="trang.html")
    imap.append(message.as_bytes())
    gate.drain()
    [post] = posts()
    files = {a.filename: a for a in post.attachments}
    assert set(files) == {"logo.png", "Biên bản họp.pdf", "trang.html"}
    assert f"/tep-dinh-kem/{files['logo.png'].id}/logo.png" in post.html

    client = app.test_client()
    image = client.get(f"/tep-dinh-kem/{files['logo.png'].id}/logo.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get(f"/tep-dinh-kem/{files['trang.html'].id}/trang.html")
    assert page.headers["Content-Disposition"].startswith("attachment")
    assert page.mimetype == "application/octet-stream"
    pdf = client.get(f"/tep-dinh-kem/{files['Biên bản họp.pdf'].id}/x")
    assert "attachment" in pdf.headers["Content-Disposition"] and pdf.data.startswith(b"%PDF")

    post.state = "held"
    db.session.commit()
    assert client.get(f"/tep-dinh-kem/{files['logo.png'].id}/logo.png").status_code == 404
