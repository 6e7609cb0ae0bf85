"""The Outlook add-in's manifests, as `make extensions` builds them, are valid.

Microsoft's validator (``office-addin-manifest validate``) checks a unified JSON
manifest offline, against the schemas shipped in its npm package. For an XML
manifest it only posts the file to an online Microsoft service, which this
machine cannot reach; the XML manifest is checked here instead by Microsoft's own
converter (``office-addin-manifest-converter``, built on Office's manifest
parser), whose output must then pass the validator, and by the checks below of
what the add-in promises: a "Cadency" button on the compose ribbon opening the
sidebar as task pane, with ReadWriteItem and the Mailbox requirement sets.
"""

import json
import re
import struct
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.clients.conftest import TEST_CADENCY, node
from tests.clients.harness_server import CLIENTS

OFFICE = "http://schemas.microsoft.com/office/appforoffice/1.1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BT = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
OVERRIDES_1_0 = "http://schemas.microsoft.com/office/mailappversionoverrides"
OVERRIDES_1_1 = "http://schemas.microsoft.com/office/mailappversionoverrides/1.1"
TYPE = f"{{{XSI}}}type"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TASK_PANE = f"{TEST_CADENCY}/sidebar/?client=outlook"
# The order of OfficeApp's children in the MailApp schema (the ones this add-in uses).
OFFICE_APP_ORDER = [
    "Id",
    "Version",
    "ProviderName",
    "DefaultLocale",
    "DisplayName",
    "Description",
    "IconUrl",
    "HighResolutionIconUrl",
    "SupportUrl",
    "AppDomains",
    "Hosts",
    "Requirements",
    "FormSettings",
    "Permissions",
    "Rule",
    "DisableEntityHighlighting",
    "VersionOverrides",
]


@pytest.fixture(scope="module")
def xml_manifest(dist: Path) -> ET.Element:
    return ET.parse(dist / "outlook" / "manifest.xml").getroot()  # noqa: S314 (our own build)


def run_tool(office_tools: Path, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = office_tools / tool / "cli.js"
    return subprocess.run(
        [node(), str(script), *args], capture_output=True, text=True, timeout=120, check=False
    )


def validate(office_tools: Path, manifest: Path) -> None:
    checked = run_tool(office_tools, "office-addin-manifest", "validate", str(manifest))
    said = checked.stdout + checked.stderr
    assert checked.returncode == 0, f"office-addin-manifest refused {manifest}:\n{said}"
    assert "not valid" not in said, said


def one(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path)
    assert found is not None, f"{element.tag} has no {path}"
    return found


def attribute(element: ET.Element, name: str) -> str:
    value = element.get(name)
    assert value is not None, f"{element.tag} has no attribute {name}"
    return value


def overrides(root: ET.Element, namespace: str) -> ET.Element:
    return one(root, f".//{{{namespace}}}VersionOverrides")


def resource(versioned: ET.Element, kind: str, resid: str) -> str:
    found = one(versioned, f"{{*}}Resources/{{{BT}}}{kind}/{{{BT}}}*[@id='{resid}']")
    return attribute(found, "DefaultValue")


def compose_button(versioned: ET.Element) -> ET.Element:
    # Direct children only: the 1.0 overrides hold the 1.1 ones.
    points = versioned.findall("{*}Hosts/{*}Host/{*}DesktopFormFactor/{*}ExtensionPoint")
    assert [point.get(TYPE) for point in points] == ["MessageComposeCommandSurface"]
    buttons = points[0].findall(".//{*}Control")
    assert len(buttons) == 1 and buttons[0].get(TYPE) == "Button"
    return buttons[0]


def mailbox_requirement(versioned: ET.Element) -> str:
    sets = one(versioned, f"{{*}}Requirements/{{{BT}}}Sets")
    assert attribute(one(sets, f"{{{BT}}}Set"), "Name") == "Mailbox"
    return attribute(sets, "DefaultMinVersion")


def test_the_xml_manifest_is_a_mail_add_in_for_messages_being_composed(
    xml_manifest: ET.Element,
) -> None:
    root = xml_manifest
    assert root.tag == f"{{{OFFICE}}}OfficeApp" and root.get(TYPE) == "MailApp"
    assert [child.tag.split("}")[1] for child in root] == OFFICE_APP_ORDER
    assert GUID.fullmatch(root.findtext(f"{{{OFFICE}}}Id") or "")
    assert root.findtext(f"{{{OFFICE}}}Permissions") == "ReadWriteItem"
    assert attribute(one(root, f"{{{OFFICE}}}Hosts/{{{OFFICE}}}Host"), "Name") == "Mailbox"
    minimum = one(root, f"{{{OFFICE}}}Requirements/{{{OFFICE}}}Sets/{{{OFFICE}}}Set")
    assert (minimum.get("Name"), minimum.get("MinVersion")) == ("Mailbox", "1.5")
    rule = one(root, f"{{{OFFICE}}}Rule/{{{OFFICE}}}Rule")
    assert (rule.get(TYPE), rule.get("ItemType"), rule.get("FormType")) == (
        "ItemIs",
        "Message",
        "Edit",
    )
    assert [domain.text for domain in root.iter(f"{{{OFFICE}}}AppDomain")] == [TEST_CADENCY]


@pytest.mark.parametrize(
    ("namespace", "mailbox", "pinnable"),
    [(OVERRIDES_1_0, "1.5", False), (OVERRIDES_1_1, "1.7", True)],
    ids=["VersionOverrides 1.0", "VersionOverrides 1.1"],
)
def test_the_compose_ribbon_button_cadency_opens_the_sidebar_as_task_pane(
    xml_manifest: ET.Element, namespace: str, mailbox: str, pinnable: bool
) -> None:
    versioned = overrides(xml_manifest, namespace)
    assert mailbox_requirement(versioned) == mailbox
    button = compose_button(versioned)
    label = attribute(one(button, "{*}Label"), "resid")
    assert resource(versioned, "ShortStrings", label) == "Cadency"
    action = one(button, "{*}Action")
    assert action.get(TYPE) == "ShowTaskpane"
    source = attribute(one(action, "{*}SourceLocation"), "resid")
    assert resource(versioned, "Urls", source) == TASK_PANE
    assert (action.findtext("{*}SupportsPinning") == "true") is pinnable
    for image in button.findall(f"{{*}}Icon/{{{BT}}}Image"):
        url = resource(versioned, "Images", attribute(image, "resid"))
        assert url == f"{TEST_CADENCY}/static/sidebar/outlook/icon-{image.get('size')}.png"


def test_every_address_in_the_xml_manifest_is_the_cadency_it_was_built_for(
    dist: Path,
) -> None:
    text = (dist / "outlook" / "manifest.xml").read_text()
    addresses = re.findall(r'"(https?://[^"]+)"', text)
    schema = re.compile(r"http://(schemas\.microsoft\.com|www\.w3\.org)/")
    served = [address for address in addresses if not schema.match(address)]
    assert served and all(address.startswith(f"{TEST_CADENCY}/") for address in served)
    assert "{{" not in text


def test_microsofts_converter_reads_the_xml_manifest_into_a_valid_unified_one(
    dist: Path, office_tools: Path, tmp_path: Path
) -> None:
    converted = tmp_path / "converted"
    ran = run_tool(
        office_tools,
        "office-addin-manifest-converter",
        "convert",
        str(dist / "outlook" / "manifest.xml"),
        "-o",
        str(converted),
    )
    said = ran.stdout + ran.stderr
    assert (converted / "manifest.json").exists(), f"the converter gave no manifest:\n{said}"
    assert not re.search(r"error|invalid", said, re.IGNORECASE), said
    manifest: dict[str, Any] = json.loads((converted / "manifest.json").read_text())
    (extension,) = manifest["extensions"]
    assert {ribbon["contexts"][0] for ribbon in extension["ribbons"]} == {"mailCompose"}
    assert {runtime["code"]["page"] for runtime in extension["runtimes"]} == {TASK_PANE}
    permissions = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert [permission["name"] for permission in permissions] == ["MailboxItem.ReadWrite.User"]
    validate(office_tools, converted / "manifest.json")


def test_the_unified_manifest_passes_microsofts_validator(dist: Path, office_tools: Path) -> None:
    validate(office_tools, dist / "outlook" / "manifest.json")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_unified_app_package_holds_the_manifest_and_its_two_icons(dist: Path) -> None:
    with zipfile.ZipFile(dist / "outlook" / "cadency-outlook.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert png_size(package.read(manifest["icons"]["color"])) == (192, 192)
        assert png_size(package.read(manifest["icons"]["outline"])) == (32, 32)
    assert GUID.fullmatch(manifest["id"])
    assert manifest["validDomains"] == ["cadency.example.com"]
    (extension,) = manifest["extensions"]
    assert extension["requirements"]["capabilities"] == [{"name": "Mailbox", "minVersion": "1.7"}]
    (runtime,) = extension["runtimes"]
    assert runtime["code"]["page"] == TASK_PANE
    (ribbon,) = extension["ribbons"]
    assert ribbon["contexts"] == ["mailCompose"]
    (button,) = ribbon["tabs"][0]["groups"][0]["controls"]
    assert (button["label"], button["actionId"]) == ("Cadency", runtime["actions"][0]["id"])


def test_the_checks_refuse_a_broken_manifest(
    dist: Path, office_tools: Path, tmp_path: Path
) -> None:
    """The tools really check here (no silent pass): broken copies are refused."""
    unified = json.loads((dist / "outlook" / "manifest.json").read_text())
    unified["id"] = "not-a-guid"
    (tmp_path / "manifest.json").write_text(json.dumps(unified))
    checked = run_tool(
        office_tools, "office-addin-manifest", "validate", str(tmp_path / "manifest.json")
    )
    assert checked.returncode != 0 and "/id must match pattern" in checked.stdout

    xml = (dist / "outlook" / "manifest.xml").read_text()
    broken = tmp_path / "broken.xml"
    broken.write_text(xml.replace("<Permissions>ReadWriteItem", "<Permissions>Everything"))
    run_tool(
        office_tools,
        "office-addin-manifest-converter",
        "convert",
        str(broken),
        "-o",
        str(tmp_path / "out"),
    )
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_cadency_serves_the_icons_the_xml_manifest_names(dist: Path, client: Client) -> None:
    text = (dist / "outlook" / "manifest.xml").read_text()
    icons = sorted(set(re.findall(rf'"{re.escape(TEST_CADENCY)}(/static/[^"]+\.png)"', text)))
    assert len(icons) == 5
    for path in icons:
        response = client.get(path)
        assert response.status_code == 200, path
        served = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert served == (CLIENTS / "outlook" / "icons" / Path(path).name).read_bytes(), path
