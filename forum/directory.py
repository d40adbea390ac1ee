"""The public directory: organisations and their published addresses (Circular 37), and roster imports."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("directory", __name__)
