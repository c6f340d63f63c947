#!/usr/bin/env python3
"""Draws the app's PNG icons from the same shapes as crates/todo-server/assets/icon.svg (a
rounded blue square with a white check) with nothing but the standard library, so no build step
needs an image tool or the network. Run once after changing icon.svg; the PNGs are committed.

    python3 scripts/make-icons.py
"""
import math
import os
import struct
import zlib

ASSETS = os.path.join(os.path.dirname(__file__), "..", "crates", "todo-server", "assets")
BLUE = (0x2F, 0x6F, 0xDD)
WHITE = (0xFF, 0xFF, 0xFF)
# icon.svg in its own 32x32 units.
RADIUS = 7.0
CHECK = [(9.0, 16.5), (14.0, 21.5), (23.0, 10.5)]
HALF_STROKE = 1.75
SAMPLES = 4  # per axis, per pixel


def in_rounded_square(x, y, r):
    cx = min(max(x, r), 32 - r)
    cy = min(max(y, r), 32 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def near_check(x, y):
    for (ax, ay), (bx, by) in zip(CHECK, CHECK[1:]):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        if math.hypot(x - (ax + t * dx), y - (ay + t * dy)) <= HALF_STROKE:
            return True
    return False


def draw(size, maskable):
    """RGBA rows; a maskable icon fills the whole square (the check stays in the safe zone)."""
    radius = 0.0 if maskable else RADIUS
    rows = []
    unit = 32.0 / size
    for py in range(size):
        row = bytearray()
        for px in range(size):
            bg = fg = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) * unit
                    y = (py + (sy + 0.5) / SAMPLES) * unit
                    if in_rounded_square(x, y, radius):
                        if near_check(x, y):
                            fg += 1
                        else:
                            bg += 1
            n = SAMPLES * SAMPLES
            alpha = (bg + fg) / n
            if alpha == 0:
                row += bytes(4)
                continue
            mix = fg / (bg + fg)
            rgb = [round(b * (1 - mix) + w * mix) for b, w in zip(BLUE, WHITE)]
            row += bytes(rgb + [round(alpha * 255)])
        rows.append(bytes(row))
    return rows


def png(size, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + r for r in rows)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


for name, size, maskable in [("icon-192.png", 192, False), ("icon-512.png", 512, False),
                             ("icon-maskable-512.png", 512, True)]:
    with open(os.path.join(ASSETS, name), "wb") as f:
        f.write(png(size, draw(size, maskable)))
    print(name)
