"""A wrong setting stops the process at start with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wiring import ConfigError, load_settings

NHOMTHU = str(Path(sys.executable).parent / "nhomthu")


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"IMAP_HOST": "imap.x.vn", "IMAP_PORT": "abc", "IMAP_USER": "u", "IMAP_PASSWORD": "p"}, "IMAP_PORT"),
        ({"IMAP_HOST": "imap.x.vn", "IMAP_USER": "u", "IMAP_PASSWORD": "p"}, "MAIL_DOMAIN"),
        ({"IMAP_HOST": "imap.x.vn", "MAIL_DOMAIN": "x.vn", "IMAP_PASSWORD": "p"}, "IMAP_USER"),
        ({"IMAP_SSL": "maybe", "IMAP_HOST": "h", "IMAP_USER": "u", "IMAP_PASSWORD": "p"}, "IMAP_SSL"),
        ({"SMTP_HOST": "smtp.x.vn", "MAIL_DOMAIN": "x.vn", "SMTP_PORT": "99999"}, "SMTP_PORT"),
        ({"SMTP_HOST": "s", "MAIL_DOMAIN": "x.vn", "SMTP_STARTTLS": "1", "SMTP_SSL": "1"}, "SMTP_STARTTLS"),
        ({"SMTP_HOST": "s", "MAIL_DOMAIN": "x.vn", "SMTP_USER": "u"}, "SMTP_PASSWORD"),
        ({"BASE_URL": "ftp://x.vn"}, "BASE_URL"),
        ({"MAIL_DOMAIN": "not a domain"}, "MAIL_DOMAIN"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1/test"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"CONFIRMATIONS_PER_DAY": "0"}, "CONFIRMATIONS_PER_DAY"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_wrong_setting_is_named(tmp_path, variables, named):
    with pytest.raises(ConfigError, match=named):
        load_settings({"DATA_DIR": str(tmp_path), **variables})


def test_defaults_are_the_embedded_system(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'nhomthu.db'}"
    assert settings.mail.imap is None and settings.mail.smtp is None
    assert settings.web.local_mail_folder == tmp_path / "mail"
    assert settings.site.base_url == "http://127.0.0.1:5000"
    assert len(settings.site.secret_key) >= 32
    assert load_settings({"DATA_DIR": str(tmp_path)}).site.secret_key == settings.site.secret_key


def test_command_stops_at_start_naming_the_setting(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "BASE_URL": "localhost:5000"}
    result = subprocess.run([NHOMTHU, "groups"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "BASE_URL" in result.stderr and "Traceback" not in result.stderr
