"""What a message says, read out of it: the text and HTML bodies in NFC, attachments under safe names,
every declared charset honoured, and nothing on earth makes it raise except a truly unusable message."""

from __future__ import annotations

import itertools
import mailbox
import unicodedata
from collections.abc import Iterator
from contextlib import closing
from email.message import Message
from pathlib import Path

import pytest

from mailgate.bodies import Body, Malformed, extract_body
from mailgate.parsing import Unreadable, parse
from tests.corpora import CORPORA, mboxrd_messages

FIXTURES = Path(__file__).parent / "data" / "mail" / "bodies"
SHARED = CORPORA / "fixtures"
R_PACKAGE_DEVEL = CORPORA / "r-package-devel.mbox.gz"
GREETING = "Kính gửi các Sở Giáo dục và Đào tạo,"
LETTER = f"{GREETING}\n\nBộ đề nghị các Sở góp ý dự thảo Thông tư trước ngày 30/11.\n"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # the five Vietnamese tones as cp1258 writes them


def body_of(name: str) -> Body:
    return extract_body(parse((FIXTURES / name).read_bytes()).message)


def shared_body(name: str) -> Body:
    return extract_body(parse((SHARED / name).read_bytes()).message)


def mail(content_type: str, body: bytes) -> bytes:
    return f"From: an@truong.edu.vn\nSubject: Thử\nContent-Type: {content_type}\n\n".encode() + body


def windows_1258(text: str) -> bytes:
    """Text as Windows writes it in code page 1258: a toned letter that has no code point of its own is
    its base letter (which may carry a circumflex, breve or horn) followed by a combining tone mark."""
    encoded = bytearray()
    for letter in text:
        decomposed = unicodedata.normalize("NFD", letter)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        try:
            encoded += letter.encode("cp1258")
        except UnicodeEncodeError:
            encoded += (base + tones).encode("cp1258")
    return bytes(encoded)


def corpus_messages() -> Iterator[tuple[str, bytes]]:
    for pattern in ("cpython-test_email/*.txt", "hyperkitty/*.txt", "public-inbox/*.eml"):
        for path in sorted(SHARED.glob(pattern)):
            yield str(path.relative_to(SHARED)), path.read_bytes()
    for path in sorted((SHARED / "perceval").glob("*.mbox")):
        with closing(mailbox.mbox(path, create=False)) as box:
            for number, key in enumerate(box.keys()):
                yield f"{path.relative_to(SHARED)}#{number}", box.get_bytes(key)


def assert_readable(name: str, body: Body) -> None:
    for text in (body.text, body.html):
        assert text is None or (unicodedata.is_normalized("NFC", text) and "\r" not in text), name
    for attachment in body.attachments:
        assert attachment.filename and not attachment.filename.startswith("."), name
        assert "/" not in attachment.filename and "\\" not in attachment.filename, name


def test_every_corpus_message_gives_a_body_or_says_why() -> None:
    malformed, unreadable, read = [], [], 0
    for name, raw in corpus_messages():
        try:
            body = extract_body(parse(raw).message)
        except Unreadable:
            unreadable.append(name)
            continue
        except Malformed:
            malformed.append(name)
            continue
        assert_readable(name, body)
        read += 1
    assert malformed == []
    assert unreadable == ["cpython-test_email/msg_19.txt"]  # a digest's text, with no header at all
    assert read == 111


def test_the_first_two_thousand_list_messages_give_bodies() -> None:
    malformed, unreadable = [], []
    for number, raw in enumerate(itertools.islice(mboxrd_messages(R_PACKAGE_DEVEL), 2000)):
        try:
            body = extract_body(parse(raw).message)
        except Unreadable:
            unreadable.append(number)
            continue
        except Malformed:
            malformed.append(number)
            continue
        assert_readable(str(number), body)
        assert body.text is not None, number
    assert number == 1999
    assert (malformed, unreadable) == ([], [])


def test_windows_1258_writes_some_vietnamese_letters_as_base_plus_combining_tone() -> None:
    assert "Kính".encode("cp1258").decode("cp1258") == "Kính"  # í has a code point of its own
    with pytest.raises(UnicodeEncodeError):
        "Kính gửi".encode("cp1258")  # ử has none: Windows writes ư plus a combining hook above
    decoded = windows_1258(GREETING).decode("cp1258")
    assert decoded != GREETING
    assert "ư\u0309" in decoded and "ơ\u0309" in decoded and "u\u0323" in decoded
    assert unicodedata.normalize("NFC", decoded) == GREETING


def test_windows_1258_letter_from_outlook_reads_as_composed_vietnamese() -> None:
    body = body_of("outlook_windows_1258_vietnamese_crlf.eml")
    assert body.text == LETTER
    assert not any(unicodedata.combining(c) for c in body.text)
    assert body.problems == ()


def test_windows_1258_built_here_reads_back_as_the_same_words() -> None:
    body = extract_body(parse(mail("text/plain; charset=cp1258", windows_1258(LETTER))).message)
    assert body.text == LETTER


@pytest.mark.parametrize(
    "name",
    [
        "gmail_quoted_printable_utf8_vietnamese.eml",
        "base64_utf8_vietnamese_with_bom.eml",
        "missing_charset_utf8_bytes.eml",
        "alternative_text_and_html.eml",
    ],
)
def test_utf8_letter_reads_whole_without_problems(name: str) -> None:
    body = body_of(name)
    assert body.text is not None and body.text.startswith(LETTER)
    assert body.problems == ()


@pytest.mark.parametrize(
    ("label", "codec", "words"),
    [
        ("utf8", "utf-8", "Kính gửi"),
        ("windows-1258", "cp1258", "Kính"),
        ("unicode-1-1-utf-7", "utf-7", "Kính gửi"),
        ("ks_c_5601-1987", "cp949", "똠방각하"),  # 똠 is in cp949, not in EUC-KR
        ("gb2312", "gb2312", "教育部"),
        ("iso-8859-8-i", "iso-8859-8", "שלום"),
        ("x-mac-roman", "mac_roman", "Café"),
        ("x-mac-cyrillic", "mac_cyrillic", "Привет"),
        ("iso-8859-1", "cp1252", "“Café”"),  # what mailers label latin-1 is windows-1252
        ('"UTF-8"', "utf-8", "Kính gửi"),
    ],
)
def test_declared_charset_aliases_read_without_problems(label: str, codec: str, words: str) -> None:
    body = extract_body(parse(mail(f"text/plain; charset={label}", words.encode(codec))).message)
    assert (body.text, body.problems) == (words, ())


def test_gb2312_label_on_gbk_text_reads_as_gb18030_with_a_note() -> None:
    body = extract_body(parse(mail("text/plain; charset=gb2312", "朱镕基".encode("gbk"))).message)
    assert body.text == "朱镕基"
    assert body.problems == ("text/plain: text does not fit charset 'gb2312', read as gb18030",)


def test_unknown_charset_with_utf8_bytes_reads_as_utf8_with_a_note() -> None:
    body = body_of("unknown_charset_x_viet_vni.eml")
    assert body.text == LETTER
    assert body.problems == ("text/plain: charset 'x-viet-vni' unknown, read as utf-8",)


def test_unknown_charset_with_windows_1252_bytes_reads_as_windows_1252_with_a_note() -> None:
    body = extract_body(parse(mail("text/plain; charset=x-unknown", "“Café”".encode("cp1252"))).message)
    assert body.text == "“Café”"
    assert body.problems == ("text/plain: charset 'x-unknown' unknown, read as windows-1252",)


def test_undeclared_charset_that_is_not_utf8_reads_as_windows_1252_with_a_note() -> None:
    body = extract_body(parse(mail("text/plain", "Café".encode("cp1252"))).message)
    assert body.text == "Café"
    assert body.problems == ("text/plain: no charset declared and not UTF-8, read as windows-1252",)


def test_utf8_with_one_damaged_byte_keeps_its_vietnamese() -> None:
    damaged = LETTER.encode()[:40] + b"\xff" + LETTER.encode()[40:]
    body = extract_body(parse(mail("text/plain; charset=utf-8", damaged)).message)
    assert body.text is not None and body.text.replace("\ufffd", "") == LETTER
    assert body.problems == (
        "text/plain: text does not fit charset 'utf-8', read as utf-8 with replacement characters",
    )


def test_windows_1252_labelled_utf8_reads_as_windows_1252() -> None:
    body = extract_body(parse(mail("text/plain; charset=utf-8", "“Café”".encode("cp1252"))).message)
    assert body.text == "“Café”"
    assert body.problems == ("text/plain: text does not fit charset 'utf-8', read as windows-1252",)


@pytest.mark.parametrize(
    ("name", "problems"),
    [
        ("unknown-charset.txt", ("text/html: charset 'iso-0646-6' unknown, read as utf-8",)),
        (
            "payload-utf8-wrong.txt",
            (
                "text/plain: text does not fit charset 'utf-8', read as "
                + "windows-1252 with replacement characters",
            ),
        ),
        (
            "another-wrong-encoding.txt",  # really windows-1252: "haven’t" comes out as "haven抰"
            (
                "text/plain: text does not fit charset 'gb2312', read as gb18030",
                "text/html: text does not fit charset 'gb2312', read as gb18030",
            ),
        ),
    ],
)
def test_wrongly_labelled_hyperkitty_messages_give_text_and_a_problem(
    name: str, problems: tuple[str]
) -> None:
    body = shared_body(f"hyperkitty/{name}")
    assert (body.text or body.html or "").strip()
    assert body.problems == problems


def test_multipart_alternative_gives_both_text_and_html() -> None:
    body = body_of("alternative_text_and_html.eml")
    assert body.text == LETTER
    assert body.html is not None and "trước ngày <b>30/11</b>" in body.html
    assert body.attachments == ()


def test_text_beside_html_with_an_inline_image_gives_both_and_the_image() -> None:
    body = body_of("apple_mail_alternative_with_related_html.eml")
    assert body.text == LETTER
    assert body.html is not None and 'src="cid:logo.bo@moet.gov.vn"' in body.html
    assert [(a.filename, a.content_id) for a in body.attachments] == [("logo-bo.png", "logo.bo@moet.gov.vn")]


def test_list_footer_part_after_an_html_body_does_not_become_the_text() -> None:
    body = body_of("html_body_with_list_footer_part.eml")
    assert body.text is None
    assert body.html is not None and f"<p>{GREETING}</p>" in body.html
    (footer,) = body.attachments
    assert (footer.filename, footer.content_type) == ("tep-dinh-kem-1.txt", "text/plain")
    assert "Hủy đăng ký" in footer.data.decode()


def test_html_only_message_has_html_and_no_text() -> None:
    body = body_of("html_only.eml")
    assert body.text is None
    assert body.html is not None and f"<p>{GREETING}</p>" in body.html


def test_rfc2231_filename_is_decoded() -> None:
    (attachment,) = body_of("attachment_rfc2231_filename.eml").attachments
    assert attachment.filename == "Báo cáo.docx"
    assert (
        attachment.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert attachment.data == b"PK\x03\x04 not really a docx"


def test_rfc2047_filename_is_decoded() -> None:
    (attachment,) = body_of("attachment_rfc2047_filename.eml").attachments
    assert attachment.filename == "Kế hoạch năm học 2026-2027.pdf"
    assert attachment.data.startswith(b"%PDF")


def test_filenames_cannot_leave_the_attachment_folder() -> None:
    attachments = body_of("attachment_path_traversal_filenames.eml").attachments
    assert [a.filename for a in attachments] == ["passwd", "win.ini", "htaccess", "tep-dinh-kem-4.bin"]
    assert attachments[0].data == b"root:x:0:0\n"


def test_forwarded_message_is_an_eml_attachment_named_for_its_subject() -> None:
    body = body_of("forwarded_message_attached.eml")
    assert body.text == "Chuyển các đồng chí lịch họp.\n"
    (forwarded,) = body.attachments
    assert (forwarded.filename, forwarded.content_type) == ("Lịch họp 12-3.eml", "message/rfc822")
    inner = parse(forwarded.data)
    assert inner.subject == "Lịch họp 12/3"
    assert extract_body(inner.message).text == "Lịch họp giao ban tháng 3.\n"


def test_inline_image_keeps_its_content_id() -> None:
    body = body_of("html_inline_image_content_id.eml")
    assert body.html is not None and 'src="cid:logo.bo@moet.gov.vn"' in body.html
    (image,) = body.attachments
    assert (image.filename, image.content_type, image.content_id) == (
        "tep-dinh-kem-1.png",
        "image/png",
        "logo.bo@moet.gov.vn",
    )
    assert image.data.startswith(b"\x89PNG\r\n")


def test_bounce_body_is_its_human_readable_part() -> None:
    body = body_of("bounce_multipart_report.eml")
    assert body.text is not None and "550 5.1.1 User unknown" in body.text
    assert [a.content_type for a in body.attachments] == ["message/delivery-status", "message/rfc822"]


def test_a_second_inline_text_part_is_kept_as_an_attachment() -> None:
    body = shared_body("public-inbox/plack-2-txt-bodies.eml")
    assert body.text == "hi"
    assert [(a.filename, a.data) for a in body.attachments] == [("tep-dinh-kem-1.txt", b"bye")]


def test_multipart_whose_boundary_is_lost_is_read_as_text() -> None:
    body = shared_body("cpython-test_email/msg_41.txt")
    assert body.text is not None and "Blah blah blah" in body.text
    assert body.problems == ("multipart/alternative has no parts (missing or wrong boundary), read as text",)


def test_invalid_content_type_of_an_attachment_becomes_octet_stream() -> None:
    (attachment,) = shared_body("hyperkitty/unconvertable_msg-2.txt").attachments
    assert attachment.content_type == "application/octet-stream"


def test_empty_text_body_is_an_empty_text() -> None:
    body = body_of("empty_text_body.eml")
    assert (body.text, body.html, body.attachments, body.problems) == ("", None, (), ())


def test_multipart_without_boundary_or_content_is_malformed() -> None:
    with pytest.raises(Malformed, match=r"^thư nhiều phần .+ \(multipart with no parts and no content\)$"):
        body_of("multipart_without_boundary_empty.eml")


def test_message_without_headers_is_malformed() -> None:
    with pytest.raises(Malformed, match=r"^thư không có phần đầu \(message has no headers\)$"):
        extract_body(Message())


def test_very_long_raw_utf8_filename_is_read_and_shortened_keeping_its_extension() -> None:
    name = "Báo cáo tổng kết năm học " * 20 + ".pdf"
    (attachment,) = extract_body(parse(mail(f'application/pdf; name="{name}"', b"%PDF")).message).attachments
    assert attachment.filename.startswith("Báo cáo tổng kết năm học Báo cáo")
    assert attachment.filename.endswith(".pdf") and len(attachment.filename.encode()) <= 200


def test_forwarded_messages_nested_three_hundred_deep_do_not_raise() -> None:
    nested = b"Subject: Fwd\nContent-Type: message/rfc822\n\n" * 300 + b"Subject: Goc\n\nhi\n"
    body = extract_body(parse(b"From: an@truong.edu.vn\n" + nested).message)
    assert [a.content_type for a in body.attachments] == ["message/rfc822"]
