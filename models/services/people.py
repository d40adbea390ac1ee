"""Finding people by address."""

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import InvalidAddress
from models.people import Person

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


def normalise_address(address: str) -> str:
    """One spelling per mailbox: trimmed, NFC, lower-cased (every real provider ignores case)."""
    cleaned = unicodedata.normalize("NFC", address.strip()).lower()
    if not _ADDRESS.match(cleaned):
        raise InvalidAddress(address)
    return cleaned


def find_person(session: Session, address: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == normalise_address(address)))


def get_or_add_person(session: Session, address: str, name: str = "") -> Person:
    person = find_person(session, address)
    if person is None:
        person = Person(email=normalise_address(address), name=unicodedata.normalize("NFC", name.strip()))
        session.add(person)
        session.flush()
    elif name and not person.name:
        person.name = unicodedata.normalize("NFC", name.strip())
    return person
