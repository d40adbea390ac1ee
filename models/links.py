"""The public web paths that mail and chat messages link to, and the forum serves.

Kept in the core so the mailgate, the bot and the forum agree on them without importing each other.
"""

from urllib.parse import quote

GROUPS = "/"


def group_path(slug: str) -> str:
    return f"/nhom/{slug}"


def sign_in_path(token: str) -> str:
    return f"/dang-nhap/{token}"


def thread_path(thread_id: int, post_id: int | None = None) -> str:
    return f"/chu-de/{thread_id}" + (f"#bai-{post_id}" if post_id else "")


def confirm_path(token: str) -> str:
    return f"/xac-nhan/{token}"


def unsubscribe_path(key: str) -> str:
    return f"/huy-dang-ky/{key}"


def attachment_path(attachment_id: int, filename: str) -> str:
    return f"/tep-dinh-kem/{attachment_id}/{quote(filename)}"


def consultation_path(consultation_id: int, anchor: str = "") -> str:
    return f"/lay-y-kien/{consultation_id}" + (f"#{anchor}" if anchor else "")
