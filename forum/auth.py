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
    session.clear()  # a new session on sign-in: nothing from before carries over
    session["person_id"] = person.id
    session.permanent = True
    g.person = person


def sign_out() -> None:
    session.clear()
    g.person = None


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_person() is None:
            return redirect(url_for("signin.ask", next=request.full_path))
        return view(*args, **kwargs)

    return guarded
