"""The environment that points nhomthu at the test servers, as an operator's settings would."""

from __future__ import annotations

from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer


def mail_server_settings(imap: Dovecot, smtp: SmtpServer) -> dict[str, str]:
    return {
        "IMAP_HOST": imap.host,
        "IMAP_PORT": str(imap.port),
        "IMAP_USER": imap.user,
        "IMAP_PASSWORD": imap.password,
        "IMAP_SSL": "false",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
    }
