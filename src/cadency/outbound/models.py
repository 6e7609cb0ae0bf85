from django.db import models


class SentMessage(models.Model):
    """The exact bytes a step run hands to SMTP, fixed before the first attempt.

    Every retry sends these same bytes with the same Message-ID, and the
    history of what a contact received survives any unenrollment.
    """

    step_run = models.OneToOneField(
        "sequences.StepRun", on_delete=models.PROTECT, related_name="message"
    )
    enrollment = models.ForeignKey(
        "sequences.Enrollment", on_delete=models.PROTECT, related_name="messages"
    )
    message_id = models.CharField(max_length=300, unique=True)
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=998)
    raw = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True, help_text="SMTP said 250.")

    def __str__(self) -> str:
        return self.message_id
