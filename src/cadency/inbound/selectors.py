"""Which inbound messages a user may see: those of the mailboxes they may see."""

from django.db.models import QuerySet

from cadency.accounts.models import User
from cadency.inbound.models import InboundMessage


def visible_messages(actor: User) -> QuerySet[InboundMessage]:
    found = InboundMessage.objects.all()
    if actor.can_act_on_all_enrollments():
        return found
    return found.filter(mailbox__user=actor)
