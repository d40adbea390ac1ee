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
    # Internationalised addresses need SMTPUTF8 end to end, which the relays we deliver through may lack.
    if len(cleaned) > 320 or not cleaned.isascii() or not _ADDRESS.match(cleaned):
        raise InvalidAddress(address)
    return cleaned


def clean_name(name: str) -> str:
    return unicodedata.normalize("NFC", " ".join(name.split()))[:255]


def find_person(session: Session, address: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == normalise_address(address)))


def get_or_add_person(session: Session, address: str, name: str = "") -> Person:
    person = find_person(session, address)
    if person is None:
        person = Person(email=normalise_address(address), name=clean_name(name))
        session.add(person)
        session.flush()
    elif name and not person.name:
        person.name = clean_name(name)
    return person
