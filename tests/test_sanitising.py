"""Email HTML shows in the forum without running anything, keeps its meaning, and reads well as text."""

import json
import re
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mailgate.sanitising import html_to_text, sanitise
from mailgate.trimming import trim_quotes
from tests.corpora import CORPORA

H5SC = json.loads((CORPORA / "xss" / "h5sc" / "vectors.json").read_text(encoding="utf-8"))
BLEACH_CASES = sorted((CORPORA / "xss" / "bleach").glob("*.test"), key=lambda p: int(p.stem))
FIXTURES = Path(__file__).parent / "data" / "mail" / "html"
CASE_NAMES = sorted(p.name.removesuffix(".expected.txt") for p in FIXTURES.glob("*.expected.txt"))

FORBIDDEN_TAGS = tuple("script iframe object embed svg math form base meta link style".split())
SCRIPT_URL = re.compile(r"(?:java|vb)script:|^data:", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son\w+\s*=", re.IGNORECASE)
QUOTED_VALUE = re.compile(r"\"[^\"]*\"|'[^']*'")
URL_ATTRIBUTES = frozenset("href src srcset action formaction background poster cite xlink:href".split())
LINK_REL = 'rel="nofollow noopener noreferrer" target="_blank"'


class Markup(HTMLParser):
    """The start tags a browser would build from sanitised output, as written and as attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, str, list[tuple[str, str | None]]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, self.get_starttag_text() or "", attrs))


def assert_nothing_runs(html: str) -> None:
    """Escaped text, a title or an alt may say "javascript:" or "onerror="; markup and URLs may not."""
    lowered = html.lower()
    assert [tag for tag in FORBIDDEN_TAGS if f"<{tag}" in lowered] == []
    for tag, written, attrs in Markup(html).tags:
        assert tag not in FORBIDDEN_TAGS
        assert not EVENT_HANDLER.search(QUOTED_VALUE.sub('""', written)), written
        for name, value in attrs:
            assert not name.startswith("on"), written
            if name in URL_ATTRIBUTES:
                assert not SCRIPT_URL.search(re.sub(r"[\x00-\x20]+", "", value or "")), written
            assert not re.search(r"url\s*\(|expression\s*\(", value or "", re.IGNORECASE), written


def assert_safe_and_stable(dangerous: str) -> None:
    shown = sanitise(dangerous)
    assert_nothing_runs(shown)
    assert sanitise(shown) == shown
    assert unicodedata.normalize("NFC", shown) == shown  # and normalising it again cannot reopen a tag


@pytest.mark.parametrize("vector", H5SC, ids=[f"h5sc-{v['id']}" for v in H5SC])
def test_html5_security_cheatsheet_vector_is_harmless(vector: dict[str, object]) -> None:
    assert_safe_and_stable(str(vector["data"]))


@pytest.mark.parametrize("case", BLEACH_CASES, ids=[p.stem for p in BLEACH_CASES])
def test_bleach_dangerous_input_is_harmless(case: Path) -> None:
    dangerous, separator, _ = case.read_text(encoding="utf-8").partition("\n--\n")
    assert separator
    assert_safe_and_stable(dangerous)


@pytest.mark.parametrize(
    "dangerous",
    [
        '<a href="java&#x09;script:alert(1)">hi</a>',
        '<a href=" &#106;avascript:alert(1)">hi</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">hi</a>',
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
        '<span style="color: expression(alert(1)); background-color: url(https://tracker.example/p.gif)">x</span>',
        '<span style="color: \\65 xpression(alert(1))">x</span>',
        '<a href="https://moet.gov.vn">\u0338 onmouseover=alert(1) x</a>',
        '<a href="https://moet.gov.vn" title="&quot; onmouseover=alert(1) x=&quot;">t</a>',
        '<img src="http://x.example/a.png" alt="<img src=x onerror=alert(1)>">',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<base href='https://evil.example/'><meta http-equiv='refresh' content='0;url=https://evil.example'>",
    ],
)
def test_tricks_beyond_the_corpora_are_harmless(dangerous: str) -> None:
    assert_safe_and_stable(dangerous)


@pytest.mark.parametrize(
    "element",
    [
        "<script>alert('bí mật')</script>",
        "<style>p { color: red } /* bí mật */</style>",
        "<title>bí mật</title>",
        "<noscript>bí mật</noscript>",
        "<template><b>bí mật</b></template>",
        "<iframe src='https://x.example'>bí mật</iframe>",
        "<object data='x.swf'>bí mật</object>",
        "<!-- bí mật -->",
    ],
)
def test_hidden_content_is_dropped_not_shown_as_text(element: str) -> None:
    assert sanitise(f"<p>Nội dung</p>{element}<p>Hết</p>") == "<p>Nội dung</p><p>Hết</p>"


def test_a_whole_outlook_document_keeps_only_its_body_text() -> None:
    shown = sanitise((FIXTURES / "outlook_vi_header_block.html").read_text(encoding="utf-8"))
    assert shown.startswith("<div>\n<p>Kính gửi Vụ Giáo dục Tiểu học,</p>")
    assert "<b>Từ:</b> Vụ Giáo dục Tiểu học &lt;gdth@moet.gov.vn&gt;" in shown
    assert "font-family" not in shown and "MsoNormal" not in shown and "Generator" not in shown


def test_bold_lists_and_tables_are_kept() -> None:
    html = (
        "<p><b>Quan trọng:</b> <strong>hạn</strong> <i>cuối</i> <u>là</u> <em>30/11</em></p>"
        "<ul><li>Một</li><li>Hai<ol><li>Hai phẩy một</li></ol></li></ul>"
        '<table><tr><th colspan="2">Lịch</th></tr>'
        '<tr><td>08:00</td><td rowspan="2">Khai mạc</td></tr></table>'
    )
    assert sanitise(html) == (
        "<p><b>Quan trọng:</b> <strong>hạn</strong> <i>cuối</i> <u>là</u> <em>30/11</em></p>"
        "<ul><li>Một</li><li>Hai<ol><li>Hai phẩy một</li></ol></li></ul>"
        '<table><tbody><tr><th colspan="2">Lịch</th></tr><tr><td>08:00</td><td rowspan="2">Khai mạc</td></tr>'
        "</tbody></table>"
    )


def test_links_open_in_a_new_tab_without_referrer() -> None:
    shown = sanitise(
        '<a href="https://moet.gov.vn/van-ban?so=12&amp;nam=2026" title="Văn bản" onclick="x()">xem</a> '
        '<a href="mailto:vanphong@moet.gov.vn">Văn phòng</a>'
    )
    assert shown == (
        f'<a href="https://moet.gov.vn/van-ban?so=12&amp;nam=2026" title="Văn bản" {LINK_REL}>xem</a> '
        f'<a href="mailto:vanphong@moet.gov.vn" {LINK_REL}>Văn phòng</a>'
    )


def test_a_link_without_a_scheme_loses_its_target_but_keeps_its_text() -> None:
    assert sanitise('<a href="/admin/xoa-nhom">bấm vào đây</a>') == "<a>bấm vào đây</a>"


def test_vietnamese_text_is_stored_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "<p>Kính gửi các Sở GD&amp;ĐT</p>")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert sanitise(decomposed) == "<p>Kính gửi các Sở GD&amp;ĐT</p>"


def test_inline_cid_images_are_kept() -> None:
    assert sanitise('<img src="cid:image001.png@01DB3A2F" alt="Logo Sở" width="80">') == (
        '<img src="cid:image001.png@01DB3A2F" alt="Logo Sở">'
    )


def test_a_remote_image_is_not_loaded_and_its_alt_text_shows_instead() -> None:
    """A remote image is a tracking pixel: it tells its sender who read the mail, and when."""
    assert sanitise('<p><img src="http://tracker.example/p.gif" alt="Logo &amp; tên Sở"></p>') == (
        "<p>Logo &amp; tên Sở</p>"
    )
    assert sanitise('<p><img src="https://tracker.example/p.gif?u=an" alt="Logo"></p>') == "<p>Logo</p>"


def test_only_a_few_presentational_styles_are_kept() -> None:
    shown = sanitise(
        '<p style="color: #c00000; font-family: Arial; text-align: center; position: fixed; '
        'font-weight: bold !important; background-color: rgb(255, 255, 0)">Chú ý</p>'
        '<span style="margin:0">x</span>'
    )
    assert shown == (
        '<p style="color: #c00000; text-align: center; font-weight: bold !important; '
        'background-color: rgb(255, 255, 0)">Chú ý</p><span>x</span>'
    )


def test_forms_are_reduced_to_their_text() -> None:
    assert sanitise('<form action="https://x.example"><input name="mk"><button>Gửi</button></form>') == "Gửi"


def test_empty_and_blank_parts_give_nothing() -> None:
    assert sanitise("") == ""
    assert sanitise("  \r\n<!-- x --><style>p{}</style>\n") == ""
    assert html_to_text("") == ""


def test_there_are_enough_text_fixture_cases() -> None:
    assert len(CASE_NAMES) >= 6
    assert all((FIXTURES / f"{name}.html").exists() for name in CASE_NAMES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_html_only_message_reads_as_text(name: str) -> None:
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8").removesuffix("\n")
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("name", "last_line_written"),
    [
        ("outlook_vi_header_block", "Phòng Giáo dục Tiểu học - Sở GD&ĐT Nghệ An"),
        ("outlook_web_en_divrplyfwdmsg", "Hai Phong Department of Education and Training"),
        ("gmail_vi_reply", "Phòng Giáo dục Trung học - Sở GD&ĐT Hà Nội"),
        ("zimbra_vi_reply", "Trân trọng."),
        ("thunderbird_vi_nested_quote", "Lê Thị Hạnh"),
    ],
)
def test_html_reply_trims_to_what_the_person_wrote(name: str, last_line_written: str) -> None:
    text = html_to_text((FIXTURES / f"{name}.html").read_text(encoding="utf-8"))
    assert trim_quotes(text).text.split("\n")[-1] == last_line_written


def test_text_keeps_vietnamese_in_nfc_and_decodes_entities() -> None:
    html = unicodedata.normalize("NFD", "<p>Kính gửi các Sở GD&amp;ĐT&nbsp;&lt;Hà&nbsp;Nội&gt;</p>")
    assert html_to_text(html) == "Kính gửi các Sở GD&ĐT <Hà Nội>"


def test_text_of_hostile_input_has_no_script_or_style_content() -> None:
    text = html_to_text("<style>p{color:red}</style><p>Xin chào<script>alert(1)</script></p><title>T</title>")
    assert text == "Xin chào"


def test_hostile_markup_still_reads_as_text() -> None:
    texts = [html_to_text(str(vector["data"])) for vector in H5SC]
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)
    assert html_to_text('0?<script>Worker("#")</script> :postMessage(1)') == "0? :postMessage(1)"


def test_two_hundred_typical_parts_sanitise_quickly() -> None:
    parts = [(FIXTURES / f"{name}.html").read_text(encoding="utf-8") for name in CASE_NAMES]
    started = time.perf_counter()
    for number in range(200):
        sanitise(parts[number % len(parts)])
    assert time.perf_counter() - started < 20
