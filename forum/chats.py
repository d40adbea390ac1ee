"""Receiving notices in Telegram or Zalo: a signed-in person makes a one-time link on their own page.

The link carries a random token, never the address; the bot redeems it from the chat that opens it.
A GET shows the page; only the button's POST makes a token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from forum.auth import current_person, signed_in
from forum.settings import web_settings
from models import Person, db, utcnow
from models.services.chats import LINK_TTL, links_of, offer_link

blueprint = Blueprint("chats", __name__)


def chat_section(person: Person) -> dict[str, Any]:
    """What the person's own page shows about their chats; nothing when no bot is configured."""
    settings = web_settings()
    me = current_person()
    if me is None or me.id != person.id or not (settings.telegram_bot or settings.zalo_oa_url):
        return {"chat_offer": False}
    return {"chat_offer": True, "chat_links": links_of(db.session, person)}


@blueprint.get("/toi")
@signed_in
def my_page() -> Response:
    """Where the bot sends people to get a link: their own page, after signing in if need be."""
    person = current_person()
    assert person is not None
    return redirect(url_for("threads.person", person_id=person.id))


@blueprint.post("/toi/lien-ket-chat")
@signed_in
def make_link() -> str:
    settings = web_settings()
    person = current_person()
    assert person is not None
    token = offer_link(db.session, person, utcnow())
    db.session.commit()
    telegram = f"https://t.me/{settings.telegram_bot}?start={token}" if settings.telegram_bot else ""
    return render_template(
        "chat_link.html",
        telegram=telegram,
        zalo=settings.zalo_oa_url,
        token=token,
        days=LINK_TTL.days,
    )
