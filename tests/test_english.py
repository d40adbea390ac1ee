"""The forum in English: chosen by ?lang=en, remembered, or asked for by the browser; Vietnamese otherwise.
And the English catalogue: complete, current with the sources, and compiled."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_babel import refresh

from forum.notices import kind_label
from models.notices import LABELS_VI, NoticeKind
from tests.factories import make_member, make_post
from tests.test_forum import sign_in

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "forum" / "translations"
TEMPLATE = CATALOGUE / "messages.pot"
ENGLISH = CATALOGUE / "en" / "LC_MESSAGES" / "messages.po"
COMPILED = ENGLISH.with_suffix(".mo")
# Interface texts that must not be left on an English page.
VIETNAMESE_UI = ("Các nhóm thư", "Tìm kiếm", "Đăng nhập", "thành viên", "Đăng ký", "Trả lời", "Rời nhóm")


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_english(page: str, *words: str) -> None:
    assert '<html lang="en">' in page
    for word in words:
        assert word in page
    for word in VIETNAMESE_UI:
        assert word not in page, f"{word!r} left untranslated"


def assert_vietnamese(page: str) -> None:
    assert '<html lang="vi">' in page and "Các nhóm thư" in page and "Email groups" not in page


def a_thread() -> int:
    """A topic of two posts in the THPT group, the second quoting the first."""
    an, binh = make_member("An"), make_member("Binh")
    first = make_post("Thi ngày 20.", message_id="<a@x>", author=an, author_name="An")
    make_post(
        "Đồng ý.",
        subject="Re: Lịch thi",
        message_id="<b@x>",
        reply_to=first,
        quoted="> Thi ngày 20.",
        author=binh,
        author_name="Bình",
    )
    return first.thread_id


def test_groups_page_in_english(client):
    page = text(client.get("/?lang=en"))
    assert_english(page, "Email groups", "Any email address can subscribe.", "Subscribe:", "0 members")
    assert "Upper secondary schools" in page, "a group's English name, when it has one"
    assert "dangky-THPT@nhomthu.test" in page, "addresses stay as they are"
    assert 'href="/?lang=vi"' in page and ">Tiếng Việt</a>" in page


def test_group_page_in_english(client):
    make_member("An")
    page = text(client.get("/nhom/thpt?lang=en"))
    assert_english(page, "<h1>Upper secondary schools</h1>", "1 member ·", "Topics", "Join the group")
    assert "Subscribe on the web" in page and "then press <strong>Reply</strong>" in page
    assert "Trường THPT" in page, "the Vietnamese name still shown, below"


def test_sign_in_page_in_english(client):
    page = text(client.get("/dang-nhap?lang=en"))
    assert_english(page, "<h1>Sign in</h1>", "no password needed", "Send a sign-in link", "Email address")
    assert "mật khẩu" not in page


def test_thread_page_in_english(client):
    thread = a_thread()
    page = text(client.get(f"/chu-de/{thread}?lang=en"))
    assert_english(page, "Show quoted text", "Sign in</a> to reply.", "Upper secondary schools")
    assert "Hiện phần trích dẫn" not in page and "để trả lời" not in page
    assert "Thi ngày 20." in page and "Đồng ý." in page, "posts are shown as written"


def test_the_choice_sticks_until_changed(client):
    client.get("/tim-kiem?lang=en")
    assert_english(text(client.get("/")), "Email groups")
    assert_english(text(client.get("/dang-nhap")), "Send a sign-in link")
    assert_vietnamese(text(client.get("/?lang=vi")))
    assert_vietnamese(text(client.get("/dang-nhap")))


def test_the_choice_outlives_signing_in(client):
    an = make_member("An")
    client.get("/?lang=en")
    sign_in(client, an)
    assert_english(text(client.get("/")), "Sign out (An)")


def test_the_browser_language_counts_when_nothing_was_chosen(client):
    assert_english(text(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})), "Email groups")
    assert_vietnamese(text(client.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"})))
    assert_vietnamese(text(client.get("/", headers={"Accept-Language": "fr-FR"})))
    client.get("/?lang=vi")  # a choice beats the browser
    assert_vietnamese(text(client.get("/", headers={"Accept-Language": "en"})))


def test_vietnamese_by_default_with_a_switch_that_keeps_the_page(client):
    page = text(client.get("/tim-kiem?q=thi&nhom=thpt"))
    assert_vietnamese(page)
    assert "Tìm kiếm" in page and "Search" not in page
    assert 'href="/tim-kiem?q=thi&nhom=thpt&lang=en"' in page and ">English</a>" in page


def labels(app, path: str) -> list[str]:
    with app.test_request_context(path):
        refresh()  # the app context the fixture pushed outlives each request context
        return [kind_label(kind) for kind in NoticeKind]


def test_notice_kinds_in_both_languages(app):
    assert labels(app, "/") == [kind.label_vi for kind in NoticeKind]
    english = labels(app, "/?lang=en")
    assert english[:4] == ["Notice", "Official letter", "Invitation", "Summons"]
    assert not set(english) & set(LABELS_VI.values())


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_mo(handle) if path.suffix == ".mo" else read_po(handle)


def translations(catalog: Catalog) -> dict[tuple[str, ...], tuple[str, ...]]:
    """(context, msgid[, plural]) → translations, alike whether read from a .po or a .mo."""
    return {(text_of(m.context), *forms(m.id)): forms(m.string) for m in catalog if m.id and not m.fuzzy}


def text_of(value: str | bytes | None) -> str:
    return value.decode() if isinstance(value, bytes) else value or ""


def forms(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def test_every_message_has_an_english_translation():
    english = {(m.context, str(m.id)): m for m in read(ENGLISH) if m.id}
    for message in read(TEMPLATE):
        if not message.id:
            continue
        found = english.get((message.context, str(message.id)))
        assert found is not None, f"{message.id!r} is not in {ENGLISH.name}: run `make messages`"
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        assert all(strings) and not found.fuzzy, f"{message.id!r} has no English translation yet"


def test_the_template_holds_every_marked_text(tmp_path):
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(fresh), str(ROOT)]
    )
    marked = {(m.context, str(m.id)) for m in read(fresh) if m.id}
    listed = {(m.context, str(m.id)) for m in read(TEMPLATE) if m.id}
    assert marked == listed, "messages.pot is out of date: run `make messages`"


def test_the_compiled_catalogue_matches_its_source():
    """The .mo served at run time says what the .po says (a .po edited without `make messages` fails)."""
    assert translations(read(COMPILED)) == translations(read(ENGLISH))
