"""Who is signed in, and the guards of pages that need someone."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for

from models import Person, db


def current_person() -> Person | None:
    if "person" not in g:
        number = session.get("person_id")
        g.person = db.session.get(Person, number) if isinstance(number, int) else None
    person: Person | None = g.person
    return person


def sign_in_as(person: Person) -> None:
    _fresh_session()
    session["person_id"] = person.id
    session.permanent = True
    g.person = person


def sign_out() -> None:
    _fresh_session()
    g.person = None


def _fresh_session() -> None:
    """A new session on signing in or out: nothing from before carries over but the chosen language."""
    language = session.get("lang")
    session.clear()
    if language is not None:
        session["lang"] = language


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_person() is None:
            return redirect(url_for("signin.ask", next=request.full_path))
        return view(*args, **kwargs)

    return guarded
