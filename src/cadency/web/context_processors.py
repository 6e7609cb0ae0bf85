from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, str]:
    """The top-level section of the page ("contacts", "tasks", …) for the nav highlight."""
    return {"nav_section": request.path.strip("/").split("/", 1)[0]}
