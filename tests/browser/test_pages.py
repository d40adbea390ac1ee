"""The pages on a phone, in real Chromium: what a teacher sees, and joining a group end to end."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from mailgate.gate import Gate
from models.services.seeding import standard_groups
from tests.browser.accessibility import assert_accessible
from tests.conftest import DOMAIN

TEACHER = "co.lan@truong.edu.vn"
TESTBOX = "/quan-tri/hop-thu-thu-nghiem/"
# `NHOMTHU_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser` refreshes the pictures in docs/.
SCREENSHOTS = os.environ.get("NHOMTHU_SCREENSHOTS")


def has_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth")


def send_from_testbox(page: Page, sender: str, recipient: str) -> None:
    page.get_by_label("Từ (địa chỉ của bạn)").fill(sender)
    page.get_by_label("Đến").fill(recipient)
    press_send(page)


def press_send(page: Page) -> None:
    """Send the test mailbox's form, and wait until the message is stored for the mailgate."""
    recipient = page.get_by_label("Đến").input_value()
    page.get_by_role("button", name="Gửi", exact=True).click()
    expect(page.get_by_text(f"Đã gửi tới {recipient}.")).to_be_visible()


def letter(page: Page, subject: str) -> Locator:
    """The test mailbox's card for the sent letter whose subject starts with `subject`."""
    return page.locator("article.card").filter(has_text=subject)


def test_groups_page_lists_every_group_readably_on_a_phone(live_server, phone, tmp_path):
    phone.goto(live_server + "/")

    expect(phone.get_by_role("heading", level=1)).to_have_text("Các nhóm thư")
    groups = standard_groups()
    expect(phone.get_by_role("heading", level=2)).to_have_text([row["name_vi"] for row in groups])
    addresses = [f"{row['registration_address']}@{DOMAIN}" for row in groups]
    expect(phone.locator("main a.address")).to_have_text(addresses)
    assert not has_horizontal_scroll(phone)
    assert_accessible(phone)

    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    picture = phone.screenshot(path=folder / "nhom-thu-dien-thoai.png")
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and len(picture) < 300_000


def test_group_page_tells_how_to_join_and_leave(live_server, phone):
    phone.goto(live_server + "/nhom/thpt")

    expect(phone.get_by_role("heading", level=1)).to_have_text("Trường THPT")
    join = phone.get_by_role("link", name="Gửi thư đăng ký")
    expect(join).to_have_attribute("href", re.compile(rf"^mailto:dangky-THPT@{DOMAIN}\?"))
    expect(phone.get_by_text(f"huydangky-thpt@{DOMAIN}")).to_be_visible()
    assert not has_horizontal_scroll(phone)
    assert_accessible(phone)


def test_joining_by_reply_in_the_test_mailbox(live_server, phone, gate: Gate):
    phone.goto(live_server + TESTBOX)
    assert_accessible(phone)
    send_from_testbox(phone, TEACHER, f"dangky-THPT@{DOMAIN}")

    gate.drain()
    phone.reload()
    confirmation = letter(phone, "Xác nhận đăng ký nhóm thư Trường THPT")
    expect(confirmation).to_contain_text(f"đến {TEACHER}")
    assert not has_horizontal_scroll(phone)
    assert_accessible(phone)
    confirmation.get_by_role("link", name="Trả lời").click()
    expect(phone.get_by_label("Từ (địa chỉ của bạn)")).to_have_value(TEACHER)
    expect(phone.get_by_label("Đến")).to_have_value(re.compile(rf"^xacnhan\+\w+@{DOMAIN}$"))
    press_send(phone)

    gate.drain()
    phone.reload()
    expect(letter(phone, "Chào mừng bạn tham gia nhóm thư Trường THPT")).to_contain_text(f"đến {TEACHER}")


def test_confirmation_link_joins_after_one_press(live_server, phone, gate: Gate):
    phone.goto(live_server + TESTBOX)
    send_from_testbox(phone, TEACHER, f"dangky-THCS@{DOMAIN}")
    gate.drain()
    phone.reload()
    confirmation = letter(phone, "Xác nhận đăng ký nhóm thư Trường THCS")
    confirmation.get_by_text("Nội dung").click()
    mail = confirmation.locator("pre").inner_text()
    link = re.search(re.escape(live_server) + r"/xac-nhan/\S+", mail).group(0)

    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Xác nhận đăng ký")
    expect(phone.locator("main")).to_contain_text(TEACHER)
    assert_accessible(phone)
    phone.get_by_role("button", name="Xác nhận tham gia").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Đã xác nhận")
    expect(phone.locator("main")).to_contain_text(f"{TEACHER} đã là thành viên nhóm Trường THCS")
    assert not has_horizontal_scroll(phone)
    assert_accessible(phone)
