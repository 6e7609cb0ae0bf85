"""Draw the mail clients' icons as PNG files, with the standard library only.

The icon is a white "C" ring on Cadency's blue rounded square; the Outlook
"outline" icon (unified manifest) is the same ring in white on transparency.
The PNGs are committed; run this again only to change the drawing:

    .venv/bin/python clients/icons.py
"""

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

CLIENTS = Path(__file__).resolve().parent
BLUE = (37, 99, 235)
WHITE = (255, 255, 255)
# Per-pixel coverage is estimated from SUPERSAMPLE x SUPERSAMPLE sample points.
SUPERSAMPLE = 4

Rgba = tuple[int, int, int, int]
Shape = Callable[[float, float], bool]


def png(width: int, height: int, pixels: list[list[Rgba]]) -> bytes:
    """An 8-bit RGBA PNG (no filtering) of ``pixels``, given row by row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(channel for px in row for channel in px) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def rounded_square(x: float, y: float) -> bool:
    """Inside a square of side 1 with corners rounded at a fifth of the side."""
    radius = 0.2
    dx = max(radius - x, 0.0, x - (1 - radius))
    dy = max(radius - y, 0.0, y - (1 - radius))
    return dx * dx + dy * dy <= radius * radius


def c_ring(x: float, y: float) -> bool:
    """A thick ring centred in the unit square, open on the right like a C."""
    dx, dy = x - 0.5, y - 0.5
    distance = math.hypot(dx, dy)
    if not 0.2 <= distance <= 0.34:
        return False
    angle = math.degrees(math.atan2(-dy, dx))
    return not -40 <= angle <= 40


def coverage(shape: Shape, px: int, py: int, size: int) -> float:
    hits = 0
    for sy in range(SUPERSAMPLE):
        for sx in range(SUPERSAMPLE):
            x = (px + (sx + 0.5) / SUPERSAMPLE) / size
            y = (py + (sy + 0.5) / SUPERSAMPLE) / size
            hits += shape(x, y)
    return hits / SUPERSAMPLE**2


def filled_icon(size: int) -> bytes:
    """White C on the blue rounded square (toolbar, store and ribbon icons)."""
    rows: list[list[Rgba]] = []
    for py in range(size):
        row: list[Rgba] = []
        for px in range(size):
            ring = coverage(c_ring, px, py, size)
            square = coverage(rounded_square, px, py, size)
            r, g, b = (round(w * ring + c * (1 - ring)) for w, c in zip(WHITE, BLUE, strict=True))
            row.append((r, g, b, round(255 * square)))
        rows.append(row)
    return png(size, size, rows)


def outline_icon(size: int) -> bytes:
    """White C on transparency: the unified manifest's "outline" icon."""
    rows = [
        [(*WHITE, round(255 * coverage(c_ring, px, py, size))) for px in range(size)]
        for py in range(size)
    ]
    return png(size, size, rows)


def write_all() -> list[Path]:
    written: list[Path] = []
    targets: list[tuple[Path, bytes]] = [
        *(
            (CLIENTS / "gmail" / "icons" / f"icon-{n}.png", filled_icon(n))
            for n in (16, 32, 48, 128)
        ),
        *(
            (CLIENTS / "outlook" / "icons" / f"icon-{n}.png", filled_icon(n))
            for n in (16, 32, 64, 80, 128)
        ),
        (CLIENTS / "outlook" / "icons" / "color.png", filled_icon(192)),
        (CLIENTS / "outlook" / "icons" / "outline.png", outline_icon(32)),
    ]
    for path, data in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path.relative_to(CLIENTS.parent))
