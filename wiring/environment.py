"""Settings from the environment: the only place os.environ is read. A wrong value stops the
process at start with a message naming the variable."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import BotSettings, TelegramSettings, ZaloSettings
from forum.settings import WebSettings
from mailgate.settings import ImapAccount, MailSettings, SmtpServer
from mailgate.signing import BadKey, DkimKey, check
from models.services.consultations import MINIMUM_DAYS, PeriodRules
from models.services.memberships import JoinRules
from models.site import Site


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it, and the process stops at start."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    site: Site
    mail: MailSettings
    web: WebSettings
    log_level: str
    bot: BotSettings
    log_format: str = "text"  # or "json": one object per line
    worker_tick: float = 60.0  # how often a worker offers each job to the schedule kept in the database


class Environment:
    """Typed reads of the environment, each failure naming its variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def text(self, name: str, default: str = "") -> str:
        return self.values.get(name, default).strip() or default

    def integer(self, name: str, default: int, low: int = 0, high: int = 2**31) -> int:
        raw = self.text(name, str(default))
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ConfigError(f"{name}={raw!r}: cần một số nguyên từ {low} đến {high} (an integer)")
        return int(raw)

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.text(name, str(default))
        try:
            value = float(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ConfigError(f"{name}={raw!r}: cần một số từ {low} đến {high} (a number)")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name, "true" if default else "false").lower()
        if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ConfigError(f"{name}={raw!r}: cần true hoặc false")
        return raw in ("1", "true", "yes", "on")


def load_settings(values: Mapping[str, str] | None = None) -> Settings:
    env = Environment(os.environ if values is None else values)
    data_dir = Path(env.text("DATA_DIR", "var")).resolve()
    database_url = _database_url(env, data_dir)
    site = Site(
        domain=_domain(env),
        base_url=_base_url(env),
        secret_key=_secret_key(env, data_dir, database_url),
        name_vi=env.text("SITE_NAME", Site.name_vi),
    )
    join = JoinRules(
        domain=site.domain,
        confirmation_ttl=timedelta(days=env.integer("CONFIRMATION_DAYS", 7, 1, 90)),
        confirmations_per_day=env.integer("CONFIRMATIONS_PER_DAY", 3, 1, 1000),
    )
    periods = _periods(env)
    mail = MailSettings(
        site=site,
        join=join,
        consultation=periods,
        imap=_imap(env),
        smtp=_smtp(env),
        folder=Path(env.text("MAIL_FOLDER", str(data_dir / "mail"))).resolve(),
        lease=timedelta(seconds=env.integer("OUTBOX_LEASE_SECONDS", 300, 1, 86400)),
        first_retry=timedelta(seconds=env.integer("OUTBOX_RETRY_SECONDS", 60, 1, 3600)),
        send_batch=env.integer("OUTBOX_BATCH", MailSettings.send_batch, 1, 5000),
        trusted_authserv_id=env.text("TRUSTED_AUTHSERV_ID"),
        notice_max_age=timedelta(days=env.integer("NOTICE_MAX_AGE_DAYS", 3, 1, 60)),
        dkim=_dkim(env, site.domain),
    )
    if (mail.imap or mail.smtp) and "MAIL_DOMAIN" not in env.values:
        raise ConfigError(
            "MAIL_DOMAIN: bắt buộc khi đã cấu hình IMAP_HOST hoặc SMTP_HOST (required with a mail server)"
        )
    if bool(mail.imap) != bool(mail.smtp):  # half a mail server would answer into the local folder
        missing = "SMTP_HOST" if mail.imap else "IMAP_HOST"
        raise ConfigError(
            f"{missing}: cần cả IMAP_HOST và SMTP_HOST, hoặc không đặt cả hai (both or neither)"
        )
    # The test mailbox lets anyone read every link and write mail as anyone: only with no mail server at all.
    local_folder = mail.folder if mail.smtp is None else None
    telegram, zalo = _telegram(env), _zalo(env)
    web = WebSettings(
        site=site,
        join=join,
        local_mail_folder=local_folder,
        consultation=periods,
        telegram_bot=telegram.username if telegram else "",
        zalo_oa_url=env.text("ZALO_OA_URL") if zalo else "",
    )
    level = env.text("LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL={level!r}: DEBUG, INFO, WARNING hoặc ERROR")
    log_format = env.text("LOG_FORMAT", "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT={log_format!r}: text hoặc json")
    tick = env.integer("WORKER_TICK_SECONDS", 60, 1, 3600)
    bot = BotSettings(
        site=site,
        join=join,
        telegram=telegram,
        zalo=zalo,
        listen_host=env.text("BOT_HOST", "127.0.0.1"),
        listen_port=env.integer("BOT_PORT", 8081, 1, 65535),
        lease=mail.lease,
        in_flight=env.integer("BOT_IN_FLIGHT", 8, 1, 100),
    )
    return Settings(database_url, data_dir, site, mail, web, level, bot, log_format, float(tick))


def _database_url(env: Environment, data_dir: Path) -> str:
    url = env.text("DATABASE_URL", f"sqlite:///{data_dir / 'nhomthu.db'}")
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigError(f"DATABASE_URL: không đọc được ({error})") from error
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("DATABASE_URL: chỉ hỗ trợ sqlite:/// và postgresql:// (SQLite or PostgreSQL)")
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _domain(env: Environment) -> str:
    domain = env.text("MAIL_DOMAIN", "nhomthu.test").lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(label and label.replace("-", "").isalnum() for label in labels):
        raise ConfigError(f"MAIL_DOMAIN={domain!r}: cần một tên miền, ví dụ moet.edu.vn")
    return domain


def _base_url(env: Environment) -> str:
    url = env.text("BASE_URL", "http://127.0.0.1:5000")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"BASE_URL={url!r}: cần một địa chỉ http:// hoặc https://")
    return url.rstrip("/")


def _secret_key(env: Environment, data_dir: Path, database_url: str) -> str:
    """Given, or (embedded default only) generated once and kept in DATA_DIR/secret_key."""
    key = env.text("SECRET_KEY")
    if key:
        if len(key) < 16:
            raise ConfigError("SECRET_KEY: cần ít nhất 16 ký tự (at least 16 characters)")
        return key
    if not database_url.startswith("sqlite"):
        raise ConfigError("SECRET_KEY: bắt buộc với PostgreSQL, mọi tiến trình phải dùng cùng một khóa")
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _imap(env: Environment) -> ImapAccount | None:
    host = env.text("IMAP_HOST")
    if not host:
        return None
    use_ssl = env.flag("IMAP_SSL", True)
    for name in ("IMAP_USER", "IMAP_PASSWORD"):
        if not env.text(name):
            raise ConfigError(f"{name}: bắt buộc khi đã đặt IMAP_HOST")
    return ImapAccount(
        host=host,
        port=env.integer("IMAP_PORT", 993 if use_ssl else 143, 1, 65535),
        user=env.text("IMAP_USER"),
        password=env.text("IMAP_PASSWORD"),
        ssl=use_ssl,
        folder=env.text("IMAP_FOLDER", "INBOX"),
        done_folder=env.text("IMAP_DONE_FOLDER", "nhomthu-da-xu-ly"),
    )


def _smtp(env: Environment) -> SmtpServer | None:
    host = env.text("SMTP_HOST")
    if not host:
        return None
    starttls = env.flag("SMTP_STARTTLS", False)
    use_ssl = env.flag("SMTP_SSL", False)
    if starttls and use_ssl:
        raise ConfigError("SMTP_STARTTLS và SMTP_SSL: chỉ chọn một")
    if env.text("SMTP_USER") and not env.text("SMTP_PASSWORD"):
        raise ConfigError("SMTP_PASSWORD: bắt buộc khi đã đặt SMTP_USER")
    return SmtpServer(
        host=host,
        port=env.integer("SMTP_PORT", 465 if use_ssl else 587 if starttls else 25, 1, 65535),
        user=env.text("SMTP_USER"),
        password=env.text("SMTP_PASSWORD"),
        starttls=starttls,
        ssl=use_ssl,
    )


def _periods(env: Environment) -> PeriodRules:
    """CONSULTATION_MIN_DAYS="thong_tu=20,nghi_dinh=30": minimum comment periods over the defaults."""
    days = dict(MINIMUM_DAYS)
    raw = env.text("CONSULTATION_MIN_DAYS")
    for item in filter(None, (part.strip() for part in raw.split(","))):
        kind, _, value = item.partition("=")
        if not kind.strip() or not value.strip().isdigit() or not 1 <= int(value) <= 365:
            raise ConfigError(
                f"CONSULTATION_MIN_DAYS={raw!r}: cần dạng thong_tu=20,nghi_dinh=30 (days from 1 to 365)"
            )
        days[kind.strip()] = int(value)
    return PeriodRules(days)


def _telegram(env: Environment) -> TelegramSettings | None:
    token = env.text("TELEGRAM_BOT_TOKEN")
    if not token:
        return None
    if ":" not in token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN: cần dạng <số>:<chuỗi> như BotFather đưa (as BotFather gives it)"
        )
    webhook = env.text("TELEGRAM_WEBHOOK_URL")
    if webhook and not webhook.startswith("https://"):
        raise ConfigError(f"TELEGRAM_WEBHOOK_URL={webhook!r}: Telegram chỉ gọi địa chỉ https://")
    secret = env.text("TELEGRAM_WEBHOOK_SECRET")
    if webhook and not (16 <= len(secret) <= 256 and secret.replace("-", "").replace("_", "").isalnum()):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: bắt buộc với webhook, 16-256 ký tự A-Z a-z 0-9 _ -")
    return TelegramSettings(
        token=token,
        username=env.text("TELEGRAM_BOT_USERNAME").lstrip("@"),
        api_url=env.text("TELEGRAM_API_URL"),
        webhook_url=webhook,
        webhook_secret=secret,
        rate=env.number("TELEGRAM_RATE", 28.5, 0.1, 30),
    )


def _zalo(env: Environment) -> ZaloSettings | None:
    app_id = env.text("ZALO_APP_ID")
    if not app_id:
        return None
    for name in ("ZALO_APP_SECRET", "ZALO_OA_SECRET", "ZALO_REFRESH_TOKEN"):
        if not env.text(name):
            raise ConfigError(f"{name}: bắt buộc khi đã đặt ZALO_APP_ID")
    return ZaloSettings(
        app_id=app_id,
        app_secret=env.text("ZALO_APP_SECRET"),
        oa_secret=env.text("ZALO_OA_SECRET"),
        access_token=env.text("ZALO_ACCESS_TOKEN"),
        refresh_token=env.text("ZALO_REFRESH_TOKEN"),
        api_url=env.text("ZALO_API_URL", "https://openapi.zalo.me").rstrip("/"),
        oauth_url=env.text("ZALO_OAUTH_URL", "https://oauth.zaloapp.com").rstrip("/"),
        rate=env.number("ZALO_RATE", 10, 0.1, 1000),
    )


def _dkim(env: Environment, domain: str) -> DkimKey | None:
    """DKIM_SELECTOR and DKIM_KEY_FILE (a PEM private key), both or neither; checked by signing once."""
    selector, path = env.text("DKIM_SELECTOR"), env.text("DKIM_KEY_FILE")
    if not selector and not path:
        return None
    if not (selector and path):
        raise ConfigError("DKIM_SELECTOR, DKIM_KEY_FILE: cần cả hai, hoặc không cái nào (both or neither)")
    try:
        key = DkimKey(selector, domain, Path(path).read_bytes())
    except OSError as error:
        raise ConfigError(f"DKIM_KEY_FILE={path!r}: không đọc được ({error.strerror})") from error
    try:
        check(key)
    except BadKey as error:
        raise ConfigError(f"DKIM_KEY_FILE={path!r}: khóa không ký được (cannot sign: {error})") from error
    return key
