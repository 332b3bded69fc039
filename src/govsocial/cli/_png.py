"""A tiny PNG writer (stdlib only), so the demo can attach a real image without Pillow."""

from __future__ import annotations

import struct
import zlib


def gradient_png(width: int = 96, height: int = 64) -> bytes:
    """A ``width`` x ``height`` RGB PNG with a blue-to-green gradient."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type 0 for each scanline
        for x in range(width):
            rows += bytes(
                (20, 80 + (150 * x) // max(1, width - 1), 200 - (120 * y) // max(1, height - 1))
            )

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return (
            struct.pack(">I", len(payload))
            + body
            + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )
