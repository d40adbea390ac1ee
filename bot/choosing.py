"""Telegram: `/nhom` lists the groups with a button each to join or leave; pressing one does it at once
for a linked chat, and asks an unlinked one to link first."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.orm import Session

from bot.conversation import Conversation, Reply
from bot.texts import language_of, say
from models import Group, utcnow


class GroupAction(CallbackData, prefix="nhom"):
    action: str  # "vao" (join) or "roi" (leave)
    group: int


async def list_groups(message: Message, session: Session, conversation: Conversation) -> Any:
    language = language_of(message.from_user.language_code if message.from_user else None)
    reply = conversation.groups(session, str(message.chat.id), language=language)
    return message.answer(reply.text, reply_markup=keyboard(reply, language))


async def choose(
    query: CallbackQuery, callback_data: GroupAction, session: Session, conversation: Conversation
) -> Any:
    language = language_of(query.from_user.language_code)
    group = session.get(Group, callback_data.group)
    if group is None or not isinstance(query.message, Message):
        return query.answer()
    chat_id = str(query.message.chat.id)
    act = conversation.join if callback_data.action == "vao" else conversation.leave
    done = act(session, chat_id, group.slug, language=language, now=utcnow())
    listing = conversation.groups(session, chat_id, language=language)
    if not listing.choices:  # not linked: an alert (at most 200 characters) says how
        return query.answer(say("link_first_short", language), show_alert=True)
    answer = query.answer(done.text[:200])
    return answer, query.message.edit_reply_markup(reply_markup=keyboard(listing, language))


def keyboard(reply: Reply, language: str) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    builder = InlineKeyboardBuilder()
    for choice in reply.choices:
        name = choice.name_en if language == "en" and choice.name_en else choice.name_vi
        if choice.member:
            text, action = "✓ " + say("leave_button", language, name=name), "roi"
        else:
            text, action = say("join_button", language, name=name), "vao"
        builder.button(text=text, callback_data=GroupAction(action=action, group=choice.id))
    builder.adjust(1)
    return builder.as_markup()


def build_router() -> Router:
    """A fresh router each time: an aiogram router belongs to one dispatcher."""
    router = Router(name="choosing")
    router.message.register(list_groups, Command("nhom"))
    router.callback_query.register(choose, GroupAction.filter())
    return router
