"""Search finds "góp ý" typed "gop y" and "Điều 5" typed "dieu 5", ranked, filtered, visible posts only."""

from __future__ import annotations

from models import db, utcnow
from models.notices import NoticeKind
from models.posts import PostState
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.roles import grant
from models.services.search import Filters, fold, search
from tests.conftest import DOMAIN
from tests.factories import make_member, make_post


def add_post(slug: str, subject: str, text: str, n: int, state: PostState = PostState.VISIBLE, author=None):
    return make_post(
        text, subject=subject, slug=slug, message_id=f"<p{n}@x>", state=state, author=author, author_name="An"
    )


def test_folding_removes_tones_and_makes_d_of_đ():
    assert fold("Góp ý dự thảo Điều 5, khoản 2") == "gop y du thao dieu 5, khoan 2"
    assert fold("TRƯỜNG THPT Nguyễn Trãi") == "truong thpt nguyen trai"


def test_search_is_insensitive_to_diacritics_and_case_and_ranked(make_app):
    make_app()
    add_post("thpt", "Góp ý dự thảo", "Đề nghị sửa Điều 5 khoản 2.", 1)
    add_post("thpt", "Lịch thi", "Không liên quan.", 2)
    add_post("thcs", "Góp ý chương trình", "Góp ý, góp ý nữa: điều chỉnh.", 3)
    add_post("thpt", "Góp ý bị giữ", "Góp ý chờ duyệt.", 4, state=PostState.HELD)
    subjects = [hit.post.subject for hit in search(db.session, "gop y")]
    assert set(subjects) == {"Góp ý dự thảo", "Góp ý chương trình"}, "held posts never appear"
    assert [h.post.subject for h in search(db.session, "DIEU 5")] == ["Góp ý dự thảo"]
    assert [h.post.subject for h in search(db.session, "Điều 5")] == ["Góp ý dự thảo"]
    assert [
        h.post.subject for h in search(db.session, "gop", Filters(group_id=find_group(db.session, "thcs").id))
    ] == ["Góp ý chương trình"]
    assert search(db.session, "dieu chin")[0].post.subject == "Góp ý chương trình", (
        "the last word is a prefix"
    )
    assert search(db.session, "' OR 1=1 --") == [] and search(db.session, "") == []


def test_search_filters_by_author_and_date_and_the_page_shows_excerpts(make_app):
    app = make_app()
    an = make_member("An")
    add_post("thpt", "Báo cáo tháng", "Số liệu báo cáo của Sở.", 1, author=an)
    add_post("thpt", "Báo cáo quý", "Báo cáo khác.", 2)
    assert [h.post.subject for h in search(db.session, "bao cao", Filters(author_id=an.id))] == [
        "Báo cáo tháng"
    ]
    page = app.test_client().get("/tim-kiem?q=so+lieu").get_data(as_text=True)
    assert "Số liệu báo cáo của Sở." in page and "Báo cáo tháng" in page
    none = app.test_client().get("/tim-kiem?q=bao+cao&tu=2099-01-01").get_data(as_text=True)
    assert "Không tìm thấy" in none


def test_search_filters_by_notice_kind_and_the_next_page_keeps_the_filters(make_app):
    app = make_app()
    publisher = make_member("VanPhongBo", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    notices = ((NoticeKind.INVITATION, "Họp giao ban"), (NoticeKind.REPORT_REQUESTED, "Báo cáo họp"))
    so = (find_group(db.session, "so"),)
    for kind, title in notices:
        draft = NoticeDraft(kind=kind, title=title, body="Nội dung họp.", groups=so)
        publish_notice(db.session, draft, publisher, unit=None, domain=DOMAIN, now=utcnow())
    add_post("so", "Họp tổ chuyên môn", "Một cuộc họp khác.", 9)
    db.session.commit()
    assert len(search(db.session, "hop")) == 3
    assert [h.post.subject for h in search(db.session, "hop", Filters(kind=NoticeKind.INVITATION))] == [
        "Họp giao ban"
    ]
    page = app.test_client().get("/tim-kiem?q=hop&loai=giay_moi").get_data(as_text=True)
    assert "Họp giao ban" in page and "Báo cáo họp" not in page and 'value="giay_moi" selected' in page
    for n in range(25):
        add_post("so", f"Lịch họp {n}", "Lịch họp tuần.", 100 + n)
    db.session.commit()
    first = app.test_client().get("/tim-kiem?q=lich+hop&nhom=so&tu=2000-01-01").get_data(as_text=True)
    assert "trang=2" in first and "tu=2000-01-01" in first and "nhom=so" in first


def test_a_short_last_word_is_a_word_and_a_longer_one_a_prefix(make_app):
    make_app()
    add_post("thpt", "Ý kiến", "Ý kiến về yêu cầu.", 1)
    add_post("thpt", "Khác", "Yếu tố khác.", 2)
    assert [h.post.subject for h in search(db.session, "y kien")] == ["Ý kiến"]
    assert [h.post.subject for h in search(db.session, "y")] == ["Ý kiến"], "y is a word, not every y…"
    assert {h.post.subject for h in search(db.session, "yeu")} == {"Ý kiến", "Khác"}, "yeu matches yeu, yeu…"
