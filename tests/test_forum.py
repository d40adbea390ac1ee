"""The forum: signing in by link, reading threads, replying on the web, moderating."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Delivery, InboundMessage, Membership, Organisation, Post, db, utcnow
from models.entities import OrganisationKind
from models.groups import MembershipState
from models.posts import PostState
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.posts import NewAttachment
from models.services.roles import grant
from tests.factories import address, make_member, make_post, open_discussion, ours


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, person) -> None:
    page = client.get("/dang-nhap").get_data(as_text=True)
    client.post("/dang-nhap", data={"csrf_token": csrf(page), "email": person.email})
    token = (
        db.session.scalars(
            select(Delivery)
            .where(Delivery.template == "sign_in", Delivery.recipient == person.email)
            .order_by(Delivery.id.desc())
        )
        .first()
        .secret
    )
    page = client.get(f"/dang-nhap/{token}").get_data(as_text=True)
    assert client.post(f"/dang-nhap/{token}", data={"csrf_token": csrf(page)}).status_code == 302


@pytest.fixture
def client(make_app):
    app = make_app()
    open_discussion()
    return app.test_client()


def thread_with_posts(client):
    """An, Bình and a held post from a stranger, through the gateway's own services."""
    an, binh = make_member("An"), make_member("Binh")
    first = make_post("Thi ngày 20.", message_id="<a@x>", author=an, author_name="An")
    reply = make_post(
        "Đồng ý.",
        subject="Re: Lịch thi",
        message_id="<b@x>",
        reply_to=first,
        quoted="> Thi ngày 20.",
        author=binh,
        author_name="Bình",
    )
    held = make_post(
        "Quảng cáo!",
        subject="Re: Lịch thi",
        message_id="<c@x>",
        reply_to=first,
        author_name="Lạ",
        state=PostState.HELD,
        reason="người gửi chưa là thành viên nhóm",
    )
    return first, reply, held


def test_sign_in_by_link_is_single_use_and_reveals_no_membership(client):
    an = make_member("An")
    page = client.get("/dang-nhap").get_data(as_text=True)
    known = client.post("/dang-nhap", data={"csrf_token": csrf(page), "email": an.email}).get_data(
        as_text=True
    )
    unknown = client.post("/dang-nhap", data={"csrf_token": csrf(page), "email": "la@x.vn"}).get_data(
        as_text=True
    )
    assert known.replace(an.email, "X") == unknown.replace("la@x.vn", "X"), "the same answer either way"
    [link] = db.session.scalars(select(Delivery).where(Delivery.template == "sign_in")).all()
    token = link.secret
    page = client.get(f"/dang-nhap/{token}").get_data(as_text=True)
    assert "Đăng xuất" not in page, "a GET signs nobody in"
    assert (
        client.post(f"/dang-nhap/{token}", data={"csrf_token": csrf(page), "next": "//evil.example"}).location
        == "/"
    )
    assert "Đăng xuất" in client.get("/").get_data(as_text=True)
    assert client.post(f"/dang-nhap/{token}", data={"csrf_token": csrf(page)}).status_code == 400, (
        "single use"
    )


def test_sign_in_links_are_rate_limited(client):
    an = make_member("An")
    page = client.get("/dang-nhap").get_data(as_text=True)
    for _ in range(5):
        client.post("/dang-nhap", data={"csrf_token": csrf(page), "email": an.email})
    assert len(db.session.scalars(select(Delivery).where(Delivery.template == "sign_in")).all()) == 3


def test_thread_shows_posts_in_reply_order_with_quotes_folded(client):
    first, reply, held = thread_with_posts(client)
    page = client.get(f"/chu-de/{first.thread_id}").get_data(as_text=True)
    assert page.index("Thi ngày 20.") < page.index("Đồng ý.")
    assert "<details><summary>Hiện phần trích dẫn</summary><pre>&gt; Thi ngày 20.</pre></details>" in page
    assert "Quảng cáo!" not in page, "held posts are not shown to readers"
    group_page = client.get("/nhom/thpt").get_data(as_text=True)
    assert "Lịch thi" in group_page and "2 bài" in group_page


def test_thread_shows_who_wrote_each_post_and_its_files_and_moderators_what_is_held(client):
    first, reply, held = thread_with_posts(client)
    an = first.author
    an.organisation = Organisation(name="Trường THPT Chu Văn An", kind=OrganisationKind.SCHOOL)
    db.session.commit()
    report = NewAttachment("Báo cáo số liệu.xlsx", "application/vnd.ms-excel", b"x" * 3072)
    with_file = make_post(
        "Gửi số liệu.", message_id="<d@x>", reply_to=reply, author=an, attachments=(report,)
    )
    [attachment] = with_file.attachments
    page = client.get(f"/chu-de/{first.thread_id}").get_data(as_text=True)
    assert f'<a href="/nguoi/{an.id}"><strong>An</strong></a>' in page
    assert page.count("· Trường THPT Chu Văn An") == 2, "the organisation beside each of An's posts"
    assert f'id="bai-{with_file.id}" style="--depth: 2"' in page, "a reply to a reply, indented twice"
    link = f'<a href="/tep-dinh-kem/{attachment.id}/B%C3%A1o%20c%C3%A1o%20s%E1%BB%91%20li%E1%BB%87u.xlsx">'
    assert link + "Báo cáo số liệu.xlsx</a>" in page and "(3.0 KB)" in page
    assert "Quảng cáo!" not in page and "Đang chờ duyệt" not in page

    moderator = make_member("Mod")
    grant(db.session, moderator, RoleName.MODERATOR, group=find_group(db.session, "thpt"))
    db.session.commit()
    sign_in(client, moderator)
    page = client.get(f"/chu-de/{first.thread_id}").get_data(as_text=True)
    assert f'<article class="post held" id="bai-{held.id}"' in page
    assert "<strong>Lạ</strong>" in page, "a sender we do not know, by the name they signed with"
    assert "Đang chờ duyệt: người gửi chưa là thành viên nhóm" in page


def test_member_replies_on_the_web_and_the_group_gets_it_by_email(client):
    first, _, _ = thread_with_posts(client)
    cuong = make_member("Cuong")
    sign_in(client, cuong)
    page = client.get(f"/chu-de/{first.thread_id}").get_data(as_text=True)
    assert client.post(f"/chu-de/{first.thread_id}/tra-loi", data={"text": "Tôi dự."}).status_code == 400, (
        "CSRF"
    )
    done = client.post(
        f"/chu-de/{first.thread_id}/tra-loi", data={"csrf_token": csrf(page), "text": "Tôi dự."}
    )
    assert done.status_code == 302, done.get_data(as_text=True)[-600:]
    post = db.session.scalars(select(Post).where(Post.text == "Tôi dự.")).one()
    assert post.parent_id == first.id and post.state == PostState.VISIBLE
    mailed = {d.recipient for d in db.session.scalars(select(Delivery).where(Delivery.template == "post"))}
    assert mailed == {address("An"), address("Binh")}, "every other member, not the author"


def test_non_member_cannot_reply_on_the_web(client):
    first, _, _ = thread_with_posts(client)
    from models.services.people import get_or_add_person

    stranger = get_or_add_person(db.session, "la@gmail.com")
    db.session.commit()
    sign_in(client, stranger)
    page = client.get(f"/chu-de/{first.thread_id}").get_data(as_text=True)
    assert "Gửi trả lời" not in page
    response = client.post(
        f"/chu-de/{first.thread_id}/tra-loi", data={"csrf_token": csrf(page), "text": "Xin chào"}
    )
    assert response.status_code == 400 and "thành viên" in response.get_data(as_text=True)


def test_moderator_approves_rejects_and_bans(client):
    first, _, held = thread_with_posts(client)
    moderator = make_member("Mod")
    grant(db.session, moderator, RoleName.MODERATOR, group=find_group(db.session, "thpt"))
    db.session.commit()
    sign_in(client, moderator)
    queue = client.get("/kiem-duyet").get_data(as_text=True)
    assert "Quảng cáo!" in queue and "chưa là thành viên" in queue
    assert client.post(f"/kiem-duyet/{held.id}/duyet", data={"csrf_token": csrf(queue)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, held.id).state == PostState.VISIBLE
    assert db.session.scalars(select(Delivery).where(Delivery.message_key == f"post:{held.id}")).first()

    author = make_member("Spam")
    spam = make_post(
        "Giá rẻ", subject="Mua", message_id="<s@x>", author=author, state=PostState.HELD, reason="kiểm duyệt"
    )
    assert client.post(f"/kiem-duyet/{spam.id}/chan", data={"csrf_token": csrf(queue)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, spam.id).state == PostState.REJECTED
    membership = db.session.scalars(select(Membership).where(Membership.person_id == author.id)).one()
    assert membership.state == MembershipState.DISABLED


def test_only_moderators_moderate_and_only_admins_see_the_quarantine(client):
    _, _, held = thread_with_posts(client)
    member = make_member("Dung")
    sign_in(client, member)
    queue = client.get("/kiem-duyet").get_data(as_text=True)
    assert "Quảng cáo!" not in queue
    assert client.post(f"/kiem-duyet/{held.id}/duyet", data={"csrf_token": csrf(queue)}).status_code == 403
    assert client.get("/quan-tri/cach-ly").status_code == 403

    from models.services.inbound import store_raw

    row, _ = store_raw(db.session, b"broken", mailbox="local", now=utcnow())
    row.state, row.outcome, row.step, row.reason = (
        "done",
        "quarantined",
        "parse_message",
        "không có phần đầu thư",
    )
    grant(db.session, member, RoleName.ADMIN)
    db.session.commit()
    page = client.get("/quan-tri/cach-ly").get_data(as_text=True)
    assert "không có phần đầu thư" in page
    raw = client.get(f"/quan-tri/thu/{row.id}.eml")
    assert raw.data == b"broken" and raw.headers["Content-Disposition"].startswith("attachment")


def test_post_mail_carries_list_headers_and_a_reply_key_that_threads_the_answer(imap, smtp, gate):
    open_discussion()
    an, binh = make_member("An"), make_member("Binh")
    imap.append(make_mail_with_id(an.email, "Họp tổ bộ môn", "Họp lúc 14 giờ.", "<h1@x>"))
    gate.drain()
    [copy] = smtp.to(binh.email)
    assert copy["From"].addresses[0].addr_spec == ours("thpt") and "An" in str(copy["From"])
    assert re.fullmatch(r"traloi\+\d+-[a-z2-7]+@nhomthu\.test", str(copy["Reply-To"]))
    assert copy["List-Id"] and copy["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert copy["Message-ID"] == "<h1@x>" and copy["Precedence"] == "list"
    assert "https://nhomthu.test/chu-de/" in copy.get_body(("plain",)).get_content()
    assert smtp.to(an.email) == [], "the author does not get their own post"

    from tests.factories import make_mail

    imap.append(make_mail(binh.email, str(copy["Reply-To"]), subject="Re: Họp", body="Tôi đến được."))
    gate.drain()
    answer = db.session.scalars(select(Post).where(Post.text == "Tôi đến được.")).one()
    first = db.session.scalars(select(Post).where(Post.message_id == "<h1@x>")).one()
    assert answer.parent_id == first.id
    assert smtp.to(an.email)[-1]["In-Reply-To"] == "<h1@x>"
    assert db.session.scalars(select(InboundMessage).where(InboundMessage.outcome != "processed")).all() == []


def make_mail_with_id(sender: str, subject: str, body: str, message_id: str) -> bytes:
    from tests.factories import make_mail

    raw = make_mail(sender, ours("thpt"), subject=subject, body=body)
    lines = [line for line in raw.split(b"\n") if not line.startswith(b"Message-ID:")]
    return f"Message-ID: {message_id}\n".encode() + b"\n".join(lines)


def test_members_start_topics_where_the_policy_allows(client):
    member = make_member("Giang")
    sign_in(client, member)
    page = client.get("/nhom/thpt").get_data(as_text=True)  # open_discussion(): members may start topics
    done = client.post(
        "/nhom/thpt/chu-de-moi",
        data={"csrf_token": csrf(page), "subject": "Chia sẻ giáo án", "text": "Giáo án môn Toán lớp 10."},
    )
    assert done.status_code == 302
    post = db.session.scalars(select(Post).where(Post.subject == "Chia sẻ giáo án")).one()
    assert post.state == PostState.VISIBLE and post.parent_id is None
    page = client.get("/nhom/thcs").get_data(as_text=True)  # announce-only, and not a member
    assert "Mở chủ đề mới" not in page
    refused = client.post(
        "/nhom/thcs/chu-de-moi", data={"csrf_token": csrf(page), "subject": "X", "text": "Y"}
    )
    assert refused.status_code == 400


def test_the_menu_offers_publishing_only_to_those_who_may_publish(client):
    moderator, publisher = make_member("ChiKiemDuyet"), make_member("DangTin")
    grant(db.session, moderator, RoleName.MODERATOR, group=find_group(db.session, "thpt"))
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "thpt"))
    db.session.commit()
    sign_in(client, moderator)
    assert "Đăng thông báo" not in client.get("/").get_data(as_text=True)
    page = client.get("/").get_data(as_text=True)
    client.post("/dang-xuat", data={"csrf_token": csrf(page)})
    sign_in(client, publisher)
    assert "Đăng thông báo" in client.get("/").get_data(as_text=True)
