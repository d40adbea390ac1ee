"""The page's language: Vietnamese first, English for whoever chooses it or whose browser asks for it.

The interface's texts are marked with `_()` in templates and `gettext`/`lazy_gettext` in views, the
Vietnamese text itself as the message id; forum/translations holds the English catalogue, compiled and
checked in (`make messages` extracts, updates and compiles it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import request, session
from flask_babel import Babel, get_locale

from forum.settings import web_settings

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
TRANSLATIONS = Path(__file__).with_name("translations")

babel = Babel()


def chosen_language() -> str:
    """`?lang=vi|en`, remembered in the session; else the session's choice; else the browser's
    Accept-Language, best match among ours; else Vietnamese."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return str(remembered)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def current_language() -> str:
    return str(get_locale() or DEFAULT)


def switch_link(language: str) -> str:
    """This page in another language: the same path and query, with `lang` set."""
    kept = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{request.path}?{urlencode([*kept, ('lang', language)])}"


def localized(vietnamese: str, english: str | None) -> str:
    """Data kept in both languages (a group's name): the English one on an English page, when there is one."""
    return english if english and current_language() == "en" else vietnamese


def template_context() -> dict[str, Any]:
    site = web_settings().site
    return {
        "current_locale": current_language(),
        "site_name": localized(site.name_vi, site.name_en),
        "switch_link": switch_link,
        "localized": localized,
    }
