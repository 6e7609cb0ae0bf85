"""Background tasks of meetings: thin wrappers that load by id and call a service."""

from django_tasks import task

from cadency.meetings import invitations
from cadency.meetings.models import Meeting


@task(queue_name="mail")
def send_invitation(meeting_id: int, sequence: int, attempt: int = 1) -> str:
    return invitations.deliver(meeting_id, sequence, attempt).value


def queue_invitation(meeting: Meeting) -> None:
    """Queue the meeting's current invitation. Call inside the transaction that changed
    the meeting: with the database backend the task commits (or rolls back) with it."""
    send_invitation.enqueue(meeting.pk, meeting.ical_sequence)
