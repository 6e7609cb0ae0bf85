"""Build the mail clients for one Cadency: the Gmail extension and the Outlook add-in.

    python3 clients/build.py [--base-url URL] [--out DIR]      # or: make extensions

writes, for the Cadency at ``--base-url`` (default: $CADENCY_BASE_URL, else
Cadency's own default http://127.0.0.1:8000):

- ``DIR/gmail/``: the unpacked Chrome extension (Load unpacked), the address
  preset in its options; ``DIR/cadency-gmail.zip``: the same, zipped;
- ``DIR/outlook/manifest.xml``: the add-in-only manifest (sideload, admin center);
- ``DIR/outlook/manifest.json`` and ``DIR/outlook/cadency-outlook.zip`` (the
  unified manifest with its two icons: the app package for the new Outlook).

``--test-origin http://127.0.0.1:PORT`` also runs the Gmail content script on
that loopback page, for the browser tests only: never ship such a build.

Standard library only, so it runs with any Python 3.9+ (no virtualenv needed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

CLIENTS = Path(__file__).resolve().parent
GMAIL_SOURCE = CLIENTS / "gmail"
OUTLOOK_SOURCE = CLIENTS / "outlook"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# The Gmail files that make the extension; anything else in the folder is left out.
GMAIL_FILES = (
    "manifest.json",
    "config.js",
    "settings.js",
    "gmail_dom.js",
    "content.js",
    "panel.html",
    "panel.css",
    "panel.js",
    "options.html",
    "options.css",
    "options.js",
    "icons/icon-16.png",
    "icons/icon-32.png",
    "icons/icon-48.png",
    "icons/icon-128.png",
)
UNIFIED_PACKAGE_ICONS = ("color.png", "outline.png")
# Zip entries get this fixed date so the same sources give the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BuildError(ValueError):
    """The build cannot go on as asked; the message says why."""


@dataclass(frozen=True)
class Cadency:
    """The Cadency the clients are built for."""

    url: str  # scheme://host[:port][/path], no trailing slash
    origin: str  # scheme://host[:port]
    host: str  # host[:port]

    @property
    def addin_id(self) -> str:
        # One stable add-in id per Cadency: two Cadency servers give two add-ins
        # that Outlook can hold side by side; rebuilding keeps the same id.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, self.url))

    def placeholders(self) -> dict[str, str]:
        return {
            "{{CADENCY_URL}}": self.url,
            "{{CADENCY_ORIGIN}}": self.origin,
            "{{CADENCY_HOST}}": self.host,
            "{{ADDIN_ID}}": self.addin_id,
        }


def cadency_at(base_url: str) -> Cadency:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BuildError(f"the Cadency URL must be http(s)://host[/path], not {base_url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BuildError(f"the Cadency URL must have no user, query or fragment: {base_url!r}")
    origin = f"{parts.scheme}://{parts.netloc}"
    return Cadency(url=origin + parts.path.rstrip("/"), origin=origin, host=parts.netloc)


def test_origin(text: str) -> str:
    parts = urlsplit(text)
    loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not loopback or parts.path not in {"", "/"}:
        raise BuildError(f"a test origin is http://127.0.0.1:PORT or localhost, not {text!r}")
    return f"http://{parts.netloc}"


def write_zip(archive: Path, files: dict[str, bytes]) -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, files[name])
    return archive


def gmail_manifest(cadency_origins: tuple[str, ...]) -> bytes:
    manifest: dict[str, Any] = json.loads((GMAIL_SOURCE / "manifest.json").read_text())
    for script in manifest["content_scripts"]:
        script["matches"] += [f"{origin}/*" for origin in cadency_origins]
    for resource in manifest["web_accessible_resources"]:
        resource["matches"] += [f"{origin}/*" for origin in cadency_origins]
    return (json.dumps(manifest, indent=2) + "\n").encode()


def gmail_config(cadency: Cadency) -> bytes:
    return (
        "// Written by clients/build.py: the Cadency this copy of the extension uses\n"
        "// until another address is saved in its options.\n"
        '"use strict";\n'
        f"globalThis.CADENCY_DEFAULT_URL = {json.dumps(cadency.url)};\n"
    ).encode()


def build_gmail(cadency: Cadency, out: Path, test_origins: tuple[str, ...] = ()) -> Path:
    """The unpacked extension in ``out/gmail`` and its zip; returns the zip."""
    files = {name: (GMAIL_SOURCE / name).read_bytes() for name in GMAIL_FILES}
    files["manifest.json"] = gmail_manifest(test_origins)
    files["config.js"] = gmail_config(cadency)
    unpacked = out / "gmail"
    shutil.rmtree(unpacked, ignore_errors=True)
    for name, data in files.items():
        (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked / name).write_bytes(data)
    return write_zip(out / "cadency-gmail.zip", files)


def fill(template: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    if "{{" in template:
        raise BuildError("a placeholder was left unfilled in an Outlook manifest template")
    return template


def outlook_xml(cadency: Cadency) -> str:
    values = {key: escape(value, {'"': "&quot;"}) for key, value in cadency.placeholders().items()}
    return fill((OUTLOOK_SOURCE / "manifest.xml").read_text(), values)


def outlook_json(cadency: Cadency) -> str:
    # Each value lands inside a JSON string: escape it as JSON would.
    values = {key: json.dumps(value)[1:-1] for key, value in cadency.placeholders().items()}
    return fill((OUTLOOK_SOURCE / "manifest.json").read_text(), values)


def build_outlook(cadency: Cadency, out: Path) -> list[Path]:
    """Both Outlook manifests and the unified app package in ``out/outlook``."""
    target = out / "outlook"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    xml_manifest = target / "manifest.xml"
    xml_manifest.write_text(outlook_xml(cadency))
    unified = outlook_json(cadency)
    json_manifest = target / "manifest.json"
    json_manifest.write_text(unified)
    package: dict[str, bytes] = {"manifest.json": unified.encode()}
    for icon in UNIFIED_PACKAGE_ICONS:
        package[icon] = (OUTLOOK_SOURCE / "icons" / icon).read_bytes()
        (target / icon).write_bytes(package[icon])
    return [xml_manifest, json_manifest, write_zip(target / "cadency-outlook.zip", package)]


def warnings_for(cadency: Cadency, test_origins: tuple[str, ...]) -> list[str]:
    said = []
    if cadency.origin.startswith("http:"):
        said.append(
            f"{cadency.url} is not https: Outlook loads add-ins only over https, and Gmail "
            "accepts http only for Cadency on the same computer (set CADENCY_BASE_URL)"
        )
    if test_origins:
        said.append(f"test build: the content script also runs on {', '.join(test_origins)}")
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("CADENCY_BASE_URL") or DEFAULT_BASE_URL,
        help="Cadency's address (default: $CADENCY_BASE_URL, else %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=CLIENTS.parent / "var" / "dist")
    parser.add_argument(
        "--test-origin",
        action="append",
        default=[],
        help="tests only: also run the Gmail content script on this loopback origin",
    )
    args = parser.parse_args(argv)
    try:
        cadency = cadency_at(args.base_url)
        origins = tuple(test_origin(text) for text in args.test_origin)
    except BuildError as error:
        parser.error(str(error))
    built = [build_gmail(cadency, args.out, origins), *build_outlook(cadency, args.out)]
    for line in warnings_for(cadency, origins):
        print(f"warning: {line}", file=sys.stderr)
    for path in built:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
