"""The project's URL patterns, walked from the resolver: what the access, CSRF and
escaping tests iterate over, so that a new page is checked without being listed."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

KWARG = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<regex_name>\w+)>")


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name ("" when the pattern has none)
    route: str  # the pattern as written, prefixes included
    view: Callable[..., Any]

    @property
    def kwargs(self) -> dict[str, str]:
        """Each keyword argument and its converter ("int", "str", "slug", "regex")."""
        found = {}
        for match in KWARG.finditer(self.route):
            if match["regex_name"]:
                found[match["regex_name"]] = "regex"
            else:
                found[match["name"]] = match["converter"] or "str"
        return found

    @property
    def int_kwargs(self) -> list[str]:
        return [name for name, converter in self.kwargs.items() if converter == "int"]

    @property
    def csrf_exempt(self) -> bool:
        return bool(getattr(self.view, "csrf_exempt", False))


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = namespace + pattern.name if pattern.name else ""
            yield Route(name=name, route=prefix + str(pattern.pattern), view=pattern.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ""))


def app_routes() -> list[Route]:
    """Cadency's own pages: not Django's admin, not the REST API (tests of their own)."""
    return [
        route
        for route in all_routes()
        if not route.route.startswith("admin/")
        and not route.route.startswith("api/")
        and not route.route.startswith("^api/")
    ]
