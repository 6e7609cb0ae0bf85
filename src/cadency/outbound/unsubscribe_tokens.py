"""Signed, non-guessable unsubscribe tokens that name one enrollment."""

from dataclasses import dataclass

from django.core import signing

SALT = "cadency.outbound.unsubscribe"


class InvalidToken(Exception):
    """The token was forged, altered or truncated."""


@dataclass(frozen=True)
class UnsubscribeClaim:
    enrollment_id: int
    email: str


def make_token(*, enrollment_id: int, email: str) -> str:
    return signing.dumps({"e": enrollment_id, "a": email}, salt=SALT, compress=True)


def read_token(token: str) -> UnsubscribeClaim:
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise InvalidToken("this unsubscribe link is not valid") from exc
    if not isinstance(payload, dict) or not {"e", "a"} <= payload.keys():
        raise InvalidToken("this unsubscribe link is not valid")
    return UnsubscribeClaim(enrollment_id=int(payload["e"]), email=str(payload["a"]))
