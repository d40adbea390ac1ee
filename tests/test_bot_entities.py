"""A notice as a Telegram message: text plus entities whose offsets and lengths count UTF-16 code units,
as Telegram reads them; Vietnamese letters are one unit, an emoji beyond the BMP two."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.formatting import Bold, Text, TextLink, as_key_value, as_line, as_list

from bot.announcements import facts, telegram_message, thread_url
from bot.entities import Segment, render
from bot.texts import say
from models.notices import NoticeKind
from models.services.chats import NoticeSummary
from models.site import VIETNAM, Site

SITE = Site(domain="nhomthu.test", base_url="https://nhomthu.test", secret_key="x" * 24)


def summary(title: str, **fields: object) -> NoticeSummary:
    found: dict[str, object] = {
        "id": 7,
        "kind": NoticeKind.INVITATION,
        "title": title,
        "excerpt": "Kính mời đại diện các Sở Giáo dục và Đào tạo dự họp trực tuyến…",
        "thread_id": 42,
        "unit": "Cục Công nghệ thông tin",
        "deadline": datetime(2026, 11, 30, 17, 0, tzinfo=VIETNAM),
        "meeting_start": datetime(2026, 11, 20, 8, 30, tzinfo=VIETNAM),
        "meeting_place": "Phòng họp tầng 3, 35 Đại Cồ Việt",
    }
    return NoticeSummary(**(found | fields))  # type: ignore[arg-type]


def marked(message: dict, entity: dict) -> str:
    """The text an entity covers, counted in UTF-16 code units as Telegram counts it."""
    units = message["text"].encode("utf-16-le")
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    return units[start:end].decode("utf-16-le")


def test_vietnamese_letters_count_one_unit_each() -> None:
    message = render(
        [Segment("Hạn chót:", "bold"), Segment(" 17:00 "), Segment("Xem", "text_link", "https://a")]
    )
    assert message["text"] == "Hạn chót: 17:00 Xem"
    assert message["entities"] == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "text_link", "offset": 16, "length": 3, "url": "https://a"},
    ]


def test_an_emoji_counts_two_units_and_moves_what_follows() -> None:
    message = render([Segment("📢 Lịch thi", "bold"), Segment(" – "), Segment("Đề cương", "italic")])
    bold, italic = message["entities"]
    assert (bold["offset"], bold["length"]) == (0, 11)  # 📢 two units, the space one, "Lịch thi" eight
    assert (italic["offset"], italic["length"]) == (14, 8)  # not 13, as counting characters would say
    assert marked(message, bold) == "📢 Lịch thi" and marked(message, italic) == "Đề cương"


def test_a_title_with_markup_and_an_emoji_is_shown_as_written() -> None:
    message = telegram_message(summary("🎓 <b>Lịch</b> *họp* _tổng kết_ [2026]"), SITE)
    bold = message["entities"][0]
    assert marked(message, bold) == "GIẤY MỜI: 🎓 <b>Lịch</b> *họp* _tổng kết_ [2026]"
    link = message["entities"][-1]
    assert marked(message, link) == "Xem và trả lời trên diễn đàn"
    assert link["url"] == "https://nhomthu.test/chu-de/42"
    assert "parse_mode" not in message


def aiogram_message(notice: NoticeSummary, site: Site) -> dict:
    """The announcement as aiogram's formatting nodes built it before the broadcaster left aiogram."""
    parts: list[Text] = [as_line(Bold(notice.kind.label_vi.upper(), ": ", notice.title))]
    parts += [as_key_value(label, value) for label, value in facts(notice)]
    if notice.excerpt:
        parts.append(Text("\n", notice.excerpt))
    parts.append(Text("\n", TextLink(say("read_more"), url=thread_url(notice, site))))
    text, entities = as_list(*parts).render()
    return {"text": text, "entities": [e.model_dump(mode="json", exclude_none=True) for e in entities]}


def test_the_entities_are_those_aiogram_made() -> None:
    for notice in (
        summary("📢 Họp trực tuyến về chuyển đổi số 🇻🇳 năm học 2026–2027"),
        summary("Báo cáo", kind=NoticeKind.REPORT_REQUESTED, unit="", meeting_start=None, meeting_place=None),
        summary("Dự thảo", kind=NoticeKind.DRAFT_FOR_COMMENT, excerpt="", deadline=None),
    ):
        assert telegram_message(notice, SITE) == aiogram_message(notice, SITE)
