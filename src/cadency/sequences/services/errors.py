from enum import StrEnum


class RefusalCode(StrEnum):
    """Why an enrollment was refused (SPEC §2.2 and the obvious preconditions)."""

    INVALID_EMAIL = "invalid_email"
    SUPPRESSED = "suppressed"
    ALREADY_ENROLLED = "already_enrolled"
    NO_WORKING_MAILBOX = "no_working_mailbox"
    MISSING_TOKEN = "missing_token"  # noqa: S105 (a refusal code)
    SEQUENCE_ARCHIVED = "sequence_archived"
    SEQUENCE_EMPTY = "sequence_empty"
    INVALID_START_STEP = "invalid_start_step"
    CONTACT_DELETED = "contact_deleted"
    USER_INACTIVE = "user_inactive"


class EnrollmentRefused(Exception):
    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
