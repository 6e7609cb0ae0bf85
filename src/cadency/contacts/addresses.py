"""Email address validation and normalisation."""

from django.conf import settings
from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    pass


def normalize_email(value: str) -> str:
    """A valid, lower-cased address, or InvalidAddress with the reason."""
    try:
        result = validate_email(
            value.strip(),
            check_deliverability=False,
            test_environment=settings.CADENCY_ALLOW_TEST_DOMAINS,
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{value!r} is not a valid email address: {exc}") from exc
    return result.normalized.lower()


def is_valid_email(value: str) -> bool:
    try:
        normalize_email(value)
    except InvalidAddress:
        return False
    return True
