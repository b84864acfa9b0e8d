"""Badge baking (PNG): put Open Badges data into an uncompressed ``iTXt`` chunk.

Open Badges Baking 2.0: keyword ``openbadges``, the assertion JSON (or a signed JWS) as text,
compression MUST NOT be used, the chunk appears at most once (we replace an existing one).
Open Badges 3.0: the same with keyword ``openbadgecredential`` and the signed credential JSON.
The chunk goes right after IHDR, so a reader that stops at the first match stops early.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OB2_KEYWORD = "openbadges"
OB3_KEYWORD = "openbadgecredential"


class NotAPng(ValueError):
    pass


def _chunks(data: bytes):
    if not data.startswith(PNG_SIGNATURE):
        raise NotAPng("Not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise NotAPng("Truncated PNG chunk")
        yield kind, data[pos + 8 : pos + 8 + length], data[pos:end]
        pos = end
        if kind == b"IEND":
            return
    raise NotAPng("PNG without IEND")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def itxt_chunk(keyword: str, text: str) -> bytes:
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated
    # keyword NUL, then the UTF-8 text.
    body = keyword.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")
    return _chunk(b"iTXt", body)


def _itxt_keyword(body: bytes) -> str:
    return body.split(b"\x00", 1)[0].decode("latin-1")


def bake(png: bytes, keyword: str, text: str) -> bytes:
    """``png`` with one uncompressed iTXt ``keyword`` chunk holding ``text``."""
    out = [PNG_SIGNATURE]
    for kind, body, raw in _chunks(png):
        if kind in (b"iTXt", b"tEXt", b"zTXt") and _itxt_keyword(body) == keyword:
            continue  # baked before: replace, never two
        out.append(raw)
        if kind == b"IHDR":
            out.append(itxt_chunk(keyword, text))
    return b"".join(out)


def unbake(png: bytes, keyword: str) -> str | None:
    """The text of the first iTXt ``keyword`` chunk, or None."""
    for kind, body, _ in _chunks(png):
        if kind == b"iTXt" and _itxt_keyword(body) == keyword:
            rest = body.split(b"\x00", 1)[1]
            compressed, rest = rest[0], rest[2:]
            _lang, _translated, text = rest.split(b"\x00", 2)
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
    return None
