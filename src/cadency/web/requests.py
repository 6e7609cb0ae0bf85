"""Who is asking: the signed-in user of a page request."""

from django.http import HttpRequest

from cadency.accounts.models import User


def signed_in_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "LoginRequiredMiddleware lets only signed-in users through"
    return user
