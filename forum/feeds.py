"""Atom feeds: one per group, and one for notices."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("feeds", __name__)
