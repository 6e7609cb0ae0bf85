"""`make extensions` (clients/build.py) builds the mail clients for one Cadency."""

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.clients.conftest import TEST_CADENCY, build, node
from tests.clients.harness_server import CLIENTS


def zipped(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def test_the_gmail_extension_asks_for_storage_and_gmail_only(dist: Path) -> None:
    manifest = json.loads(zipped(dist / "cadency-gmail.zip")["manifest.json"])
    assert manifest["manifest_version"] == 3
    assert manifest["name"] == "Cadency for Gmail"
    assert manifest["permissions"] == ["storage"]
    assert manifest["host_permissions"] == ["https://mail.google.com/*"]
    assert manifest["optional_host_permissions"] == [
        "https://*/*",
        "http://127.0.0.1/*",
        "http://localhost/*",
    ]
    (script,) = manifest["content_scripts"]
    assert script["matches"] == ["https://mail.google.com/*"]
    assert script["js"] == ["gmail_dom.js", "content.js"]
    (frameable,) = manifest["web_accessible_resources"]
    assert frameable == {"resources": ["panel.html"], "matches": ["https://mail.google.com/*"]}
    assert manifest["options_ui"]["page"] == "options.html"


def test_the_zip_holds_every_file_the_extension_names_and_the_unpacked_copy_matches(
    dist: Path,
) -> None:
    files = zipped(dist / "cadency-gmail.zip")
    manifest = json.loads(files["manifest.json"])
    named = {*manifest["icons"].values(), *manifest["content_scripts"][0]["js"]}
    named |= {"options.html", "panel.html"}
    for page in ("options.html", "panel.html"):
        html = files[page].decode()
        named |= set(re.findall(r'(?:src|href)="([^"#:]+)"', html))
    assert named <= set(files), f"missing from the zip: {named - set(files)}"
    unpacked = dist / "gmail"
    assert {str(path.relative_to(unpacked)) for path in unpacked.rglob("*") if path.is_file()} == (
        set(files)
    )
    assert all((unpacked / name).read_bytes() == data for name, data in files.items())


def test_the_gmail_build_presets_the_cadency_address(dist: Path) -> None:
    config = zipped(dist / "cadency-gmail.zip")["config.js"].decode()
    assert f'globalThis.CADENCY_DEFAULT_URL = "{TEST_CADENCY}";' in config
    source = (CLIENTS / "gmail" / "config.js").read_text()
    assert 'globalThis.CADENCY_DEFAULT_URL = "";' in source


def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    for out in ("one", "two"):
        assert build(tmp_path / out, "--base-url", TEST_CADENCY).returncode == 0
    for built in ("cadency-gmail.zip", "outlook/cadency-outlook.zip", "outlook/manifest.xml"):
        assert (tmp_path / "one" / built).read_bytes() == (tmp_path / "two" / built).read_bytes()


def test_a_test_origin_is_added_only_when_asked_and_only_on_loopback(tmp_path: Path) -> None:
    built = build(tmp_path, "--base-url", TEST_CADENCY, "--test-origin", "http://127.0.0.1:8765")
    assert built.returncode == 0
    assert "test build" in built.stderr
    manifest = json.loads((tmp_path / "gmail" / "manifest.json").read_text())
    assert manifest["content_scripts"][0]["matches"] == [
        "https://mail.google.com/*",
        "http://127.0.0.1:8765/*",
    ]
    assert manifest["web_accessible_resources"][0]["matches"][-1] == "http://127.0.0.1:8765/*"

    refused = build(tmp_path / "no", "--test-origin", "https://evil.example.com")
    assert refused.returncode == 2
    assert "a test origin is http://127.0.0.1:PORT or localhost" in refused.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ("ftp://cadency.example.com", "must be http(s)://host[/path]"),
        ("cadency.example.com", "must be http(s)://host[/path]"),
        ("https://user:secret@cadency.example.com", "no user, query or fragment"),
        ("https://cadency.example.com/?next=1", "no user, query or fragment"),
    ],
)
def test_a_bad_cadency_address_is_refused_and_nothing_is_built(
    tmp_path: Path, given: str, error: str
) -> None:
    refused = build(tmp_path / "out", "--base-url", given)
    assert refused.returncode == 2
    assert error in refused.stderr
    assert not (tmp_path / "out").exists()


def test_the_address_comes_from_cadency_base_url_and_loses_its_trailing_slash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CADENCY_BASE_URL", "https://crm.example.com/cadency/")
    assert build(tmp_path).returncode == 0
    xml = (tmp_path / "outlook" / "manifest.xml").read_text()
    assert 'DefaultValue="https://crm.example.com/cadency/sidebar/?client=outlook"' in xml
    assert "<AppDomain>https://crm.example.com</AppDomain>" in xml


def test_plain_http_is_built_with_a_warning_about_outlook(tmp_path: Path) -> None:
    built = build(tmp_path, "--base-url", "http://127.0.0.1:8000")
    assert built.returncode == 0
    assert "Outlook loads add-ins only over https" in built.stderr


def test_each_cadency_gets_its_own_stable_add_in_id(tmp_path: Path) -> None:
    def addin_id(base_url: str, out: str) -> str:
        assert build(tmp_path / out, "--base-url", base_url).returncode == 0
        manifest = json.loads((tmp_path / out / "outlook" / "manifest.json").read_text())
        xml = (tmp_path / out / "outlook" / "manifest.xml").read_text()
        assert f"<Id>{manifest['id']}</Id>" in xml
        identifier: str = manifest["id"]
        return identifier

    first = addin_id("https://a.example.com", "a")
    assert addin_id("https://a.example.com/", "a-again") == first
    assert addin_id("https://b.example.com", "b") != first


def test_addresses_are_escaped_for_xml_and_json(tmp_path: Path) -> None:
    assert build(tmp_path, "--base-url", "https://example.com/sales&ops").returncode == 0
    xml = (tmp_path / "outlook" / "manifest.xml").read_text()
    assert "https://example.com/sales&amp;ops/sidebar/?client=outlook" in xml
    unified = json.loads((tmp_path / "outlook" / "manifest.json").read_text())
    page = unified["extensions"][0]["runtimes"][0]["code"]["page"]
    assert page == "https://example.com/sales&ops/sidebar/?client=outlook"


def test_the_extension_scripts_are_valid_javascript() -> None:
    scripts = sorted((CLIENTS / "gmail").glob("*.js")) + sorted((CLIENTS / "harness").glob("*.js"))
    for script in scripts:
        checked = subprocess.run([node(), "--check", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{script.name}: {checked.stderr}"
