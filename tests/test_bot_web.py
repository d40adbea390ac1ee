"""The web side of the bot: a signed-in person makes a one-time link on their own page; it names
nobody, and opening it in Telegram links the chat."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from models import ChatLink, db
from tests.chat_updates import feed, message
from tests.factories import make_member
from tests.servers.telegram import FakeTelegram
from tests.test_forum import csrf, sign_in


def test_own_page_offers_a_link_that_names_nobody(bot_app: Flask, telegram: FakeTelegram) -> None:
    an, binh = make_member("An"), make_member("Binh")
    client = bot_app.test_client()
    sign_in(client, an)
    assert "Nhận thông báo qua Telegram/Zalo" not in client.get(f"/nguoi/{binh.id}").get_data(as_text=True)
    assert client.get("/toi").headers["Location"].endswith(f"/nguoi/{an.id}")
    page = client.get(f"/nguoi/{an.id}").get_data(as_text=True)
    assert page.count("Nhận thông báo qua Telegram/Zalo") == 1, "once, in the page, not in its <title>"
    assert "<section" not in page.split("</title>")[0]

    made = client.post("/toi/lien-ket-chat", data={"csrf_token": csrf(page)}).get_data(as_text=True)
    (token,) = re.findall(r"https://t\.me/nhomthu_bot\?start=([a-z2-7]{24})", made)
    assert "an@truong.edu.vn" not in made.split("<main")[-1] and f"lienket {token}" in made

    feed(bot_app, message(7001, f"/start {token}"))
    db.session.commit()
    link = db.session.scalar(select(ChatLink))
    assert link is not None and link.person_id == an.id and link.chat_id == "7001"
    assert "Telegram" in client.get(f"/nguoi/{an.id}").get_data(as_text=True)


def test_no_bot_configured_no_offer(make_app) -> None:
    app = make_app()
    an = make_member("An")
    client = app.test_client()
    sign_in(client, an)
    assert "Nhận thông báo qua Telegram/Zalo" not in client.get(f"/nguoi/{an.id}").get_data(as_text=True)
