"""With a DKIM key configured, every delivery leaves signed, and the signature verifies after its
personal parts were filled in; a wrong key setting stops the process at start."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import dkim
import pytest

from models import db, utcnow
from models.notices import NoticeKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.roles import grant
from tests.conftest import DOMAIN, environment
from tests.factories import make_member
from wiring import load_settings
from wiring.environment import ConfigError
from wiring.processes import build_gate


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    private = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
    public = subprocess.run(
        ["openssl", "rsa", "-pubout", "-outform", "DER"], input=private, capture_output=True, check=True
    ).stdout
    path = tmp_path_factory.mktemp("dkim") / "nhomthu.pem"
    path.write_bytes(private)
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_every_copy_of_a_notice_is_signed_and_verifies(make_app, mail_env, smtp, key_pair):
    path, record = key_pair
    app = make_app(**mail_env, DKIM_SELECTOR="nhomthu", DKIM_KEY_FILE=str(path))
    publisher = make_member("VanPhongBo", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    members = [make_member(name, "so") for name in ("An", "Binh")]
    draft = NoticeDraft(
        NoticeKind.NOTICE, "Lịch nghỉ Tết", "Các đơn vị lưu ý.", (find_group(db.session, "so"),)
    )
    publish_notice(db.session, draft, publisher, unit=None, domain=DOMAIN, now=utcnow())
    db.session.commit()
    gate = build_gate(app.extensions["nhomthu.settings"])
    try:
        gate.drain()
    finally:
        gate.close()
    dns = {f"nhomthu._domainkey.{DOMAIN}.".encode(): record}
    copies = [r for r in smtp.received if set(r.recipients) & {m.email for m in members}]
    assert len(copies) == 2
    for copy in copies:
        assert copy.data.startswith(b"DKIM-Signature:")
        assert dkim.verify(copy.data, dnsfunc=lambda name, timeout=5: dns.get(name)), copy.recipients
    assert b"traloi+" in copies[0].data
    forged = copies[0].data.replace(b"traloi+", b"traloi-", 1)  # a Reply-To rewritten on the way
    assert not dkim.verify(forged, dnsfunc=lambda name, timeout=5: dns.get(name))


def test_a_half_or_broken_key_setting_stops_the_process(tmp_path):
    with pytest.raises(ConfigError, match="DKIM_SELECTOR"):
        load_settings(environment("sqlite://", tmp_path, DKIM_SELECTOR="nhomthu"))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(ConfigError, match="DKIM_KEY_FILE"):
        load_settings(environment("sqlite://", tmp_path, DKIM_SELECTOR="nhomthu", DKIM_KEY_FILE=str(junk)))
    with pytest.raises(ConfigError, match="DKIM_KEY_FILE"):
        load_settings(
            environment("sqlite://", tmp_path, DKIM_SELECTOR="nhomthu", DKIM_KEY_FILE=str(tmp_path / "none"))
        )
