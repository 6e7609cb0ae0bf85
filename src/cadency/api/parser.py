from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser


class ObjectParser(Parser):
    """Every request body of this API is a JSON object: refuse anything else (400)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the request body must be a JSON object")
        return data
