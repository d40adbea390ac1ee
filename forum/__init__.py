"""The web forum: server-rendered pages, Vietnamese first, laid out for a phone."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from forum import api, attachments, feeds, groups, membership, testbox
from forum.settings import WebSettings

csrf = CSRFProtect()


def register(app: Flask, settings: WebSettings) -> None:
    """Bind the forum's extensions and blueprints to the app the composition root built."""
    app.extensions["nhomthu.web"] = settings
    csrf.init_app(app)
    app.register_blueprint(groups.blueprint)
    app.register_blueprint(attachments.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(feeds.blueprint)
    app.register_blueprint(membership.blueprint)
    csrf.exempt(membership.unsubscribe)  # checks the form token itself, except for RFC 8058 one-click
    if settings.local_mail_folder is not None:
        app.register_blueprint(testbox.blueprint)
    app.context_processor(lambda: {"site": settings.site, "testbox": settings.local_mail_folder is not None})
