"""Serving the files attached to posts, with headers that keep a hostile file from acting in our origin."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from models import PostAttachment, db
from models.posts import PostState

blueprint = Blueprint("attachments", __name__)

# Shown in the page; everything else is downloaded (an HTML or SVG file opened inline could run script).
INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@blueprint.get("/tep-dinh-kem/<int:attachment_id>/<path:filename>")
def download(attachment_id: int, filename: str) -> Response:
    attachment = db.session.get(PostAttachment, attachment_id)
    if attachment is None or attachment.post.state != PostState.VISIBLE:
        abort(404)
    inline = attachment.content_type in INLINE
    response = Response(
        attachment.data, mimetype=attachment.content_type if inline else "application/octet-stream"
    )
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=attachment.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
