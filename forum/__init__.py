"""The web forum: server-rendered pages, Vietnamese first, laid out for a phone."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import refresh
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import func, select

from forum import (
    admin,
    api,
    attachments,
    chats,
    consultations,
    directory,
    feeds,
    groups,
    health,
    membership,
    metrics,
    moderation,
    notices,
    searching,
    signin,
    testbox,
    threads,
)
from forum.auth import current_person
from forum.languages import TRANSLATIONS, babel, chosen_language, template_context
from forum.settings import WebSettings
from models import Person, Role, db
from models.roles import RoleName
from models.site import VIETNAM

csrf = CSRFProtect()
# One blueprint per feature; the test mailbox is added only on the embedded default.
FEATURES = (
    groups,
    threads,
    signin,
    moderation,
    searching,
    health,
    metrics,
    admin,
    notices,
    consultations,
    directory,
    attachments,
    api,
    feeds,
    membership,
    chats,
)


def register(app: Flask, settings: WebSettings) -> None:
    """Bind the forum's extensions and blueprints to the app the composition root built."""
    app.extensions["nhomthu.web"] = settings
    csrf.init_app(app)
    babel.init_app(
        app,
        default_locale="vi",
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=chosen_language,
    )
    for feature in FEATURES:
        app.register_blueprint(feature.blueprint)
    csrf.exempt(membership.unsubscribe)  # checks the form token itself, except for RFC 8058 one-click
    if settings.local_mail_folder is not None:
        app.register_blueprint(testbox.blueprint)
    app.before_request(forget_request_caches)
    app.context_processor(
        lambda: {
            "site": settings.site,
            "testbox": settings.local_mail_folder is not None,
            "me": current_person(),
            "vietnam": VIETNAM,
            "publisher": is_publisher(current_person()),
        }
    )
    app.context_processor(template_context)


def forget_request_caches() -> None:
    """`g` belongs to the app context, which outlives a request when one was already pushed (the CLI,
    the tests): the signed-in person, the CSRF token and the language are looked up afresh for every
    request."""
    g.pop("person", None)
    g.pop("csrf_token", None)
    refresh()


def is_publisher(person: Person | None) -> bool:
    """Whether the menu offers "Đăng thông báo" (one query, for signed-in people only)."""
    if person is None:
        return False
    may_publish = select(func.count(Role.id)).where(
        Role.person_id == person.id, Role.name != RoleName.MODERATOR
    )
    return (db.session.scalar(may_publish) or 0) > 0  # a moderator alone would meet a 403 on the form
