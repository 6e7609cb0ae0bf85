"""Reading a spec file (YAML or JSON) for the commands that create things from one."""

import json
import re
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import CommandError

CLOCK_TIME = re.compile(r"^[0-9]+(?::[0-5]?[0-9])+$")


class SpecLoader(yaml.SafeLoader):
    """Safe YAML, except that ``18:00`` stays the string "18:00" (YAML 1.1 reads it as
    the base-60 number 1080, which would make ``send_window: [08:00, 18:00]`` fail)."""


SpecLoader.yaml_implicit_resolvers = {
    first: [("tag:yaml.org,2002:str", CLOCK_TIME)] * first.isdigit() + list(resolvers)
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_spec(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json"}:
        raise CommandError(f"{path}: expected a .yaml, .yml or .json file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{path}, line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
    try:
        return yaml.load(text, Loader=SpecLoader)  # noqa: S506 (SpecLoader is a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CommandError(f"{path}{where}: invalid YAML: {problem}") from None
