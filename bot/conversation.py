"""The bot's commands, the same on every platform: link the chat, list the groups, join, leave, stop.

Each takes the update's session and returns a Reply; Telegram shows its choices as buttons, Zalo as text.
The caller owns the transaction (bot/transactions.py commits after the handler).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.settings import BotSettings
from bot.texts import say
from models.chat import ChatLink, ChatPlatform
from models.errors import NotAMember, TokenExpired, TokenInvalid, TokenUsed, UnknownGroup
from models.services import chats
from models.services.chats import GroupChoice
from models.services.memberships import JoinResult

TOKEN_PROBLEMS = ((TokenExpired, "token_expired"), (TokenUsed, "token_used"), (TokenInvalid, "token_unknown"))


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[GroupChoice, ...] = field(default=())


class Conversation:
    def __init__(self, settings: BotSettings, platform: ChatPlatform, prefix: str = "/") -> None:
        self.settings, self.platform, self.prefix = settings, platform, prefix

    def start(
        self, session: Session, chat_id: str, token: str, *, name: str, language: str, now: datetime
    ) -> Reply:
        """`/start <token>` from a deep link links the chat; a bare `/start` says how to get one."""
        if not token:
            link = chats.linked_chat(session, self.platform, chat_id)
            if link is not None:
                return Reply(say("linked", language, email=link.person.email))
            return Reply(say("welcome", language, site=self.settings.site.name_vi, url=self._my_page()))
        try:
            link = chats.link_chat(session, token.strip(), self.platform, chat_id, now, name=name)
        except TokenInvalid as error:
            key = next(key for kind, key in TOKEN_PROBLEMS if isinstance(error, kind))
            return Reply(say(key, language))
        return Reply(say("linked", language, email=link.person.email))

    def groups(self, session: Session, chat_id: str, *, language: str) -> Reply:
        link = chats.linked_chat(session, self.platform, chat_id)
        if link is None:
            return Reply(say("link_first", language, url=self._my_page()))
        return Reply(say("groups", language), tuple(chats.group_choices(session, link.person)))

    def join(self, session: Session, chat_id: str, slug: str, *, language: str, now: datetime) -> Reply:
        link = chats.linked_chat(session, self.platform, chat_id)
        if link is None:
            return Reply(say("link_first", language, url=self._my_page()))
        try:
            group, result = chats.join_from_chat(session, link, slug, rules=self.settings.join, now=now)
        except UnknownGroup:
            return Reply(say("unknown_group", language, name=slug, prefix=self.prefix))
        name = group.name_en if language == "en" and group.name_en else group.name_vi
        return Reply(say(RESULTS[result], language, name=name, email=link.person.email))

    def leave(self, session: Session, chat_id: str, slug: str, *, language: str, now: datetime) -> Reply:
        link = chats.linked_chat(session, self.platform, chat_id)
        if link is None:
            return Reply(say("link_first", language, url=self._my_page()))
        try:
            group = chats.leave_from_chat(session, link, slug, rules=self.settings.join, now=now)
        except UnknownGroup:
            return Reply(say("unknown_group", language, name=slug, prefix=self.prefix))
        except NotAMember:
            return Reply(say("not_member", language, name=slug))
        name = group.name_en if language == "en" and group.name_en else group.name_vi
        return Reply(say("left", language, name=name))

    def stop(self, session: Session, chat_id: str, *, language: str, now: datetime) -> Reply:
        link: ChatLink | None = chats.linked_chat(session, self.platform, chat_id)
        if link is None:
            return Reply(say("link_first", language, url=self._my_page()))
        chats.unlink(session, link, now)
        return Reply(say("unlinked", language))

    def help(self, *, language: str) -> Reply:
        return Reply(say("help", language, prefix=self.prefix))

    def _my_page(self) -> str:
        return self.settings.site.url("/toi")


RESULTS = {
    JoinResult.JOINED: "joined",
    JoinResult.ALREADY_MEMBER: "already_member",
    JoinResult.CONFIRMATION_SENT: "confirmation_sent",
    JoinResult.LIMITED: "limited",
}
