from collections.abc import Callable
from functools import cache

from django.http import HttpRequest

from cadency.accounts.alerts import open_alert_count
from cadency.accounts.models import User


def navigation(request: HttpRequest) -> dict[str, str | Callable[[], int]]:
    """The top-level section of the page ("contacts", "tasks", …) for the nav highlight,
    and the signed-in user's open alerts, counted only if the page shows the count."""
    user = getattr(request, "user", None)

    @cache
    def alert_count() -> int:
        return open_alert_count(user) if isinstance(user, User) else 0

    return {
        "nav_section": request.path.strip("/").split("/", 1)[0],
        "open_alert_count": alert_count,
    }
