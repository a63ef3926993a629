"""What every customer page shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kehu.core.models import Origin
from kehu.core.views import display_phone
from kehu.customers import selectors

if TYPE_CHECKING:
    from kehu.accounts.models import User

WEB = Origin.MANUAL  # provenance of every write made through these pages


def card_contacts(viewer: User, customer_id: int) -> list:
    """The card's contacts (masked for a masking viewer), with their phones for display."""
    contacts = selectors.contact_list(viewer=viewer, customer_id=customer_id)
    for contact in contacts:
        contact.phones_display = [display_phone(p) for p in contact.phones]
    return contacts
