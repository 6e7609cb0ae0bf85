"""Who may edit a contact's fields (name, lifecycle stage, owner, time zone, custom
properties): its owner; anyone when it has no owner; managers and admins always.
Anyone signed in may edit a company (companies have no owner)."""

from django.core.exceptions import PermissionDenied

from cadency.accounts.models import User
from cadency.contacts.models import Contact


def may_edit_contact(user: User, contact: Contact) -> bool:
    if user.can_act_on_all_enrollments():
        return True
    return contact.owner_id is None or contact.owner_id == user.pk


def check_may_edit_contact(user: User, contact: Contact) -> None:
    """Refuse (403) an edit of a contact another user owns, for a rep."""
    if not may_edit_contact(user, contact):
        raise PermissionDenied(
            f"{contact.email} is owned by another user; a {user.role} may edit only the "
            "contacts they own or that have no owner (a manager or an admin may edit any)"
        )
