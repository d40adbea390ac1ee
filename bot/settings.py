"""What the chat bot needs to know, built by wiring from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from models.services.memberships import JoinRules
from models.site import Site


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    username: str = ""  # the bot's @name without the @, for deep links (t.me/<username>?start=<token>)
    api_url: str = ""  # another Bot API server (a local one, or the tests' fake); empty: api.telegram.org
    webhook_url: str = ""  # set: updates come by webhook (production); empty: long polling
    webhook_secret: str = ""  # checked on every webhook request (X-Telegram-Bot-Api-Secret-Token)
    rate: float = 28.5  # messages a second, all chats together (Telegram's limit is 30)
    per_chat_interval: float = 1.1  # seconds between two messages to one chat (Telegram: about 1)


@dataclass(frozen=True)
class ZaloSettings:
    app_id: str
    app_secret: str  # the app's secret key: sent when refreshing the access token
    oa_secret: str  # the Official Account's secret key: signs the webhook (X-ZEvent-Signature)
    access_token: str = ""  # the first pair; afterwards the pair kept in the database is used
    refresh_token: str = ""
    api_url: str = "https://openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    rate: float = 10.0
    per_chat_interval: float = 1.1


@dataclass(frozen=True)
class BotSettings:
    site: Site
    join: JoinRules
    telegram: TelegramSettings | None = None
    zalo: ZaloSettings | None = None
    listen_host: str = "127.0.0.1"  # where the webhooks (Telegram in production, Zalo always) are served
    listen_port: int = 8081
    lease: timedelta = timedelta(minutes=5)
    batch: int = 200
    in_flight: int = 8  # messages being sent at once per platform: a kill repeats at most these

    @property
    def configured(self) -> bool:
        return self.telegram is not None or self.zalo is not None

    @property
    def needs_web_server(self) -> bool:
        return self.zalo is not None or bool(self.telegram and self.telegram.webhook_url)
