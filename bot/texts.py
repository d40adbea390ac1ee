"""What the bot says, Vietnamese first and English for those whose app is set to English.

One table of key → (Vietnamese, English); `say` picks the language and fills the values in.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "welcome": (
        "Xin chào! Đây là bot của {site}. Để nhận thông báo qua ứng dụng này, hãy mở liên kết "
        "“Nhận thông báo qua Telegram/Zalo” trên trang cá nhân của bạn ở diễn đàn: {url}",
        "Hello! This is the {site} bot. To receive notices here, open the link "
        "“Receive notices by Telegram/Zalo” on your page on the forum: {url}",
    ),
    "linked": (
        "Đã liên kết với {email}. Từ nay thông báo của các nhóm bạn tham gia sẽ được gửi tới đây. "
        "Gõ /nhom để chọn nhóm.",
        "Linked to {email}. Notices of your groups will now be sent here. Send /nhom to choose groups.",
    ),
    "token_unknown": (
        "Liên kết không đúng hoặc đã bị cắt ngắn. Hãy mở lại liên kết trên trang cá nhân của bạn.",
        "This link is wrong or cut short. Open the link on your page again.",
    ),
    "token_expired": (
        "Liên kết đã hết hạn. Hãy lấy liên kết mới trên trang cá nhân của bạn.",
        "This link has expired. Get a new one on your page.",
    ),
    "token_used": (
        "Liên kết này đã được dùng. Hãy lấy liên kết mới trên trang cá nhân của bạn.",
        "This link was already used. Get a new one on your page.",
    ),
    "help": (
        "Các lệnh:\n"
        "{prefix}nhom: xem các nhóm thư, tham gia hoặc rời nhóm\n"
        "{prefix}huy: ngừng nhận thông báo ở đây\n"
        "{prefix}trogiup: xem hướng dẫn này",
        "Commands:\n"
        "{prefix}nhom: the groups; join or leave\n"
        "{prefix}huy: stop receiving notices here\n"
        "{prefix}trogiup: this help",
    ),
    "groups": ("Các nhóm thư (✓: bạn là thành viên):", "Groups (✓: you are a member):"),
    "groups_text_hint": (
        "Gõ “vao <tên nhóm>” để tham gia, “roi <tên nhóm>” để rời nhóm.",
        "Send “vao <group>” to join, “roi <group>” to leave.",
    ),
    "join_button": ("Tham gia {name}", "Join {name}"),
    "leave_button": ("Rời {name}", "Leave {name}"),
    "link_first": (
        "Bạn cần liên kết trò chuyện này với địa chỉ thư điện tử trước: mở liên kết “Nhận thông báo qua "
        "Telegram/Zalo” trên trang cá nhân của bạn ở diễn đàn: {url}",
        "Link this chat to your email address first: open “Receive notices by Telegram/Zalo” on your page "
        "on the forum: {url}",
    ),
    "link_first_short": (
        "Hãy liên kết trò chuyện này với địa chỉ thư điện tử trước: gõ /start để xem cách làm.",
        "Link this chat to your email address first: send /start to see how.",
    ),
    "joined": ("Bạn đã tham gia nhóm {name}.", "You have joined {name}."),
    "already_member": ("Bạn đã là thành viên nhóm {name}.", "You are already a member of {name}."),
    "confirmation_sent": (
        "Địa chỉ của bạn cần xác nhận lại: một thư xác nhận đã được gửi tới {email}.",
        "Your address needs confirming again: a confirmation was sent to {email}.",
    ),
    "limited": (
        "Hôm nay đã gửi đủ thư xác nhận tới {email}. Hãy thử lại vào ngày mai.",
        "Enough confirmations were sent to {email} today. Try again tomorrow.",
    ),
    "left": ("Bạn đã rời nhóm {name}.", "You have left {name}."),
    "not_member": ("Bạn không phải thành viên nhóm {name}.", "You are not a member of {name}."),
    "unknown_group": (
        "Không có nhóm “{name}”. Gõ {prefix}nhom để xem các nhóm.",
        "There is no group “{name}”. Send {prefix}nhom to see the groups.",
    ),
    "unlinked": (
        "Đã ngừng gửi thông báo tới đây. Muốn nhận lại, hãy mở liên kết mới trên trang cá nhân của bạn.",
        "Notices will no longer be sent here. To receive them again, open a new link on your page.",
    ),
    "unknown_command": (
        "Bot chưa hiểu tin nhắn này. Gõ {prefix}trogiup để xem các lệnh.",
        "The bot did not understand that. Send {prefix}trogiup for the commands.",
    ),
    "deadline": ("Hạn chót", "Deadline"),
    "meeting": ("Thời gian họp", "Meeting"),
    "place": ("Địa điểm", "Place"),
    "from": ("Đơn vị", "From"),
    "read_more": ("Xem và trả lời trên diễn đàn", "Read and answer on the forum"),
}


def language_of(code: str | None) -> str:
    """The bot answers in English to apps set to English, in Vietnamese otherwise."""
    return "en" if code and code.lower().startswith("en") else "vi"


def say(key: str, language: str = "vi", **values: object) -> str:
    vietnamese, english = TEXTS[key]
    return (english if language == "en" else vietnamese).format(**values)
