from django.http import HttpRequest
from ninja.security import HttpBearer

from cadency.accounts.models import User
from cadency.accounts.tokens import authenticate_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a personal API token (see /account/)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return authenticate_token(token)


def actor_of(request: HttpRequest) -> User:
    """The user the request's token belongs to (set by TokenAuth)."""
    user = getattr(request, "auth", None)
    assert isinstance(user, User), "every API operation is authenticated"
    return user
