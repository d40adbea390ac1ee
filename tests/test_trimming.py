"""Replies become forum posts showing only what the person wrote; what was cut stays available."""

import mailbox
import time
from contextlib import closing
from email.message import Message
from pathlib import Path

import pytest

from mailgate.trimming import trim_quotes
from tests.corpora import CORPORA

FIXTURES = Path(__file__).parent / "data" / "mail" / "trim"
FEDORA_MBOX = CORPORA / "fixtures" / "fedora-devel-2010-01" / "2010-January.mboxrd"
CASE_NAMES = sorted(p.name.removesuffix(".expected.txt") for p in FIXTURES.glob("*.expected.txt"))


def read_case(name: str) -> tuple[str, str]:
    body = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8")
    return body, expected.removesuffix("\n")


def test_there_are_enough_fixture_cases() -> None:
    assert len(CASE_NAMES) >= 20
    assert all((FIXTURES / f"{name}.txt").exists() for name in CASE_NAMES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_reply_keeps_only_what_the_person_wrote(name: str) -> None:
    body, expected = read_case(name)
    assert trim_quotes(body).text == expected


@pytest.mark.parametrize("name", CASE_NAMES)
def test_no_line_is_lost(name: str) -> None:
    body, _ = read_case(name)
    trimmed = trim_quotes(body)
    shown = set(trimmed.text.split("\n")) | set(trimmed.removed.split("\n"))
    assert [line for line in body.split("\n") if line.strip() and line not in shown] == []


@pytest.mark.parametrize(
    ("name", "removed_lines"),
    [
        (
            "gmail_vi_reply_wrapped_attribution",
            [
                "Vào Th 5, 19 thg 11, 2026 vào lúc 09:12 Vụ Giáo dục Trung học - Bộ Giáo",
                "đã viết:",
                "> Kính gửi các Sở GD&ĐT,",
            ],
        ),
        (
            "inline_reply",
            [
                "> 1. Điều 5 có cần bổ sung đối tượng là giáo viên hợp đồng không?",
                "> 2. Thời hạn gửi báo cáo là ngày 15/12 có phù hợp không?",
                "> 3. Các ý kiến khác (nếu có).",
            ],
        ),
        (
            "outlook_vi_header_block",
            [
                "Từ: Vụ Giáo dục Tiểu học <gdth@moet.gov.vn>",
                "Vụ Giáo dục Tiểu học gửi dự thảo Thông tư để các Sở góp ý.",
            ],
        ),
        (
            "forward_vi",
            ["---------- Thư đã chuyển tiếp ---------", "Bộ GD&ĐT gửi dự thảo Thông tư để các Sở góp ý."],
        ),
        ("dash_dash_signature", ["-- ", "Phạm Quốc Huy", "> Đề nghị các Sở góp ý dự thảo trước ngày 30/11."]),
        ("iphone_vi_signature", ["Được gửi từ iPhone của tôi"]),
    ],
)
def test_removed_holds_what_was_cut(name: str, removed_lines: list[str]) -> None:
    body, _ = read_case(name)
    removed = trim_quotes(body).removed.split("\n")
    assert [line for line in removed_lines if line not in removed] == []


def test_removed_keeps_the_order_of_the_original() -> None:
    body, _ = read_case("inline_reply")
    removed = trim_quotes(body).removed
    assert removed.index("> 1.") < removed.index("> 2.") < removed.index("> 3.")


def test_a_message_that_is_all_quote_is_kept_whole() -> None:
    body, _ = read_case("only_quote_kept")
    trimmed = trim_quotes(body)
    assert trimmed.text == body.rstrip("\n")
    assert trimmed.removed == ""


def test_a_plain_message_removes_nothing() -> None:
    body, _ = read_case("no_quote_plain")
    assert trim_quotes(body).removed == ""


def test_windows_line_endings_are_normalised() -> None:
    body, expected = read_case("thunderbird_vi")
    trimmed = trim_quotes(body.replace("\n", "\r\n"))
    assert trimmed.text == expected
    assert "\r" not in trimmed.text + trimmed.removed


def test_empty_body_stays_empty() -> None:
    assert trim_quotes("") == trim_quotes("\n\n")
    assert trim_quotes("").text == ""


@pytest.mark.parametrize(
    "body",
    [
        "> Đề nghị các Sở góp ý dự thảo trước ngày 30/11.\n" * 20_000,
        "Vào lúc 09:12 19/11/2026, " + "Nguyễn Văn An " * 80_000 + "\n> a\n",
        "On 1 " + "a" * 1_000_000 + "\n",
        ("Từ: " + "x" * 60 + "\n") * 16_000,
        ("On 19/11/2026\n\n" * 70_000) + "Đồng ý.\n",
        "Đồng ý với dự thảo.\n" * 50_000,
    ],
    ids=["quotes", "long-attribution", "one-long-line", "from-lines", "attribution-starts", "plain-lines"],
)
def test_a_megabyte_body_trims_in_linear_time(body: str) -> None:
    """Hostile shapes must not make the trimmer backtrack: each takes ~0.02-0.2 s; a quadratic or
    exponential pattern would take minutes. The bound is loose so a busy CI machine does not fail it."""
    started = time.perf_counter()
    trimmed = trim_quotes(body)
    assert time.perf_counter() - started < 5
    assert trimmed.text.strip()


def plain_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return raw.decode(part.get_content_charset() or "utf-8", errors="replace")
    return ""


@pytest.mark.skipif(not FEDORA_MBOX.exists(), reason="fedora-devel corpus not present")
def test_real_replies_from_a_mailing_list_archive() -> None:
    with closing(mailbox.mbox(FEDORA_MBOX, create=False)) as archive:
        bodies = [plain_body(m) for m in archive if m["In-Reply-To"]]
    bodies = [body for body in bodies if body.strip()]
    trimmed = [trim_quotes(body) for body in bodies]
    assert len(bodies) > 200
    assert all(t.text.strip() for t in trimmed)
    clean = [t for t in trimmed if not any(line.startswith(">") for line in t.text.split("\n"))]
    assert len(clean) / len(trimmed) > 0.9
