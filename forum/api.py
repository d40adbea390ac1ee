"""The read-only JSON API, described by an OpenAPI document at /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api")
