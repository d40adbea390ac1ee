"""Search finds "góp ý" typed "gop y" and "Điều 5" typed "dieu 5", ranked, filtered, visible posts only."""

from __future__ import annotations

from models import db
from models.posts import PostState
from models.services.memberships import find_group
from models.services.search import Filters, fold, search
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
