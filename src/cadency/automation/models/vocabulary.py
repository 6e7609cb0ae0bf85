from django.db import models


class TriggerType(models.TextChoices):
    """The changes a workflow can start on (each is read from ledger events)."""

    CONTACT_CREATED = "contact_created", "Contact created"
    CONTACT_PROPERTY_CHANGED = "contact_property_changed", "Contact property changed"
    LIST_JOINED = "list_joined", "Contact added to a list"
    LIST_LEFT = "list_left", "Contact removed from a list"
    COMPANY_PROPERTY_CHANGED = "company_property_changed", "Company property changed"
    DEAL_CREATED = "deal_created", "Deal created"
    DEAL_STAGE_CHANGED = "deal_stage_changed", "Deal stage changed"
    EMAIL_SENT = "email_sent", "Sequence email sent"
    EMAIL_OPENED = "email_opened", "Sequence email opened"
    EMAIL_CLICKED = "email_clicked", "Link clicked in a sequence email"
    EMAIL_REPLIED = "email_replied", "Contact replied or emailed"
    EMAIL_BOUNCED = "email_bounced", "Email bounced"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    ENROLLMENT_STARTED = "enrollment_started", "Enrolled in a sequence"
    ENROLLMENT_ENDED = "enrollment_ended", "Enrollment ended"
