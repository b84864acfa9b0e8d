"""Badge baking: put Open Badges data inside the badge image.

PNG: an uncompressed ``iTXt`` chunk. Open Badges Baking 2.0: keyword ``openbadges``, the
assertion JSON (or a signed JWS) as text, compression MUST NOT be used, the chunk appears at
most once (we replace an existing one). Open Badges 3.0: the same with keyword
``openbadgecredential`` and the signed credential JSON. The chunk goes right after IHDR, so a
reader that stops at the first match stops early.

SVG (Open Badges 3.0, 5.3.2): an ``<openbadges:credential>`` element, namespace
``https://purl.imsglobal.org/ob/v3p0``, first child of the root ``<svg>``, holding the signed
credential JSON as text (a CDATA section). A badge graphic that is not SVG (ours are PNG) is
wrapped in an SVG that shows it as an ``<image>`` data URI. SVG is parsed with defusedxml
only (no DTDs, no entity expansion).
"""

from __future__ import annotations

import base64
import struct
import zlib
from xml.etree.ElementTree import Element, register_namespace, tostring  # noqa: S405 (writing only)

from defusedxml import ElementTree as SafeET

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


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk."""
    for kind, body, _ in _chunks(png):
        if kind == b"IHDR":
            return struct.unpack(">II", body[:8])
    raise NotAPng("PNG without IHDR")


def unbake(png: bytes, keyword: str) -> str | None:
    """The text of the first iTXt ``keyword`` chunk, or None."""
    for kind, body, _ in _chunks(png):
        if kind == b"iTXt" and _itxt_keyword(body) == keyword:
            rest = body.split(b"\x00", 1)[1]
            compressed, rest = rest[0], rest[2:]
            _lang, _translated, text = rest.split(b"\x00", 2)
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
    return None


# ---- SVG (Open Badges 3.0) -----------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
OB3_SVG_NS = "https://purl.imsglobal.org/ob/v3p0"
OB3_SVG_TAG = f"{{{OB3_SVG_NS}}}credential"


class NotAnSvg(ValueError):
    pass


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside a CDATA section: end it there and start another, so the text
    # a parser reads back is exactly ``text``.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def svg_with_png(png: bytes, credential: str, *, width: int, height: int, title: str = "") -> bytes:
    """An SVG of ``png`` (as an ``<image>`` data URI, ``width`` × ``height``) carrying
    ``credential`` in ``<openbadges:credential>``."""
    data_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    title = "".join(c for c in title if c >= " ")  # no control characters in XML
    title_el = f"<title>{_xml_attr(title)}</title>" if title else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" xmlns:openbadges="{OB3_SVG_NS}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<openbadges:credential>{_cdata(credential)}</openbadges:credential>"
        f"{title_el}"
        f'<image width="{width}" height="{height}" href="{data_uri}" xlink:href="{data_uri}"/>'
        "</svg>\n"
    ).encode()


def _svg_root(svg: bytes):
    try:
        root = SafeET.fromstring(svg)
    except Exception as exc:  # defusedxml's refusals and parse errors alike
        raise NotAnSvg(f"Not a readable SVG file: {exc}") from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        raise NotAnSvg("Not an SVG file (the root element is not <svg>)")
    return root


def bake_svg(svg: bytes, credential: str) -> bytes:
    """An SVG graphic with ``credential`` in one ``<openbadges:credential>``, the root's first
    child (an existing one is replaced: never two)."""
    root = _svg_root(svg)
    for old in root.findall(OB3_SVG_TAG):
        root.remove(old)
    element = Element(OB3_SVG_TAG)
    element.text = credential  # escaped on writing, read back exactly
    root.insert(0, element)
    register_namespace("", SVG_NS)
    register_namespace("xlink", XLINK_NS)
    register_namespace("openbadges", OB3_SVG_NS)
    return tostring(root, encoding="utf-8", xml_declaration=True)


def unbake_svg(svg: bytes) -> str | None:
    """The text of the first ``<openbadges:credential>`` (whitespace around it dropped), or
    None. Raises NotAnSvg for anything that is not a safe, well-formed SVG."""
    found = _svg_root(svg).find(f".//{OB3_SVG_TAG}")
    if found is None or found.text is None:
        return None
    return found.text.strip()
