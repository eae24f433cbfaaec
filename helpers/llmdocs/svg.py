"""Allow-list sanitizing of captured SVG: shapes, text and gradients stay; nothing can run.

A published figure may be opened directly by URL, where an SVG is a document of its own:
script, event handlers, `<foreignObject>`, links and external references would all work
there. Only drawing elements survive, references must point inside the figure (`#id`),
and embedded raster images must be data: URIs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "use", "symbol", "clipPath", "mask", "pattern",
    "marker", "linearGradient", "radialGradient", "stop", "image",
}
DOCTYPE = re.compile(r"<!DOCTYPE[^>\[]*>", re.I)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.I)
RASTER = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
DANGEROUS = re.compile(r"javascript:|vbscript:|expression\s*\(|@import|behavior\s*:|-moz-binding",
                       re.I)


class UnsafeSvg(ValueError):
    """An SVG that cannot be parsed safely (entities, internal DTD subsets, bad XML)."""


def sanitize_svg(text: str) -> str:
    """The figure with only allow-listed elements and attributes; UnsafeSvg if unparsable."""
    body = DOCTYPE.sub("", XML_DECLARATION.sub("", text), count=1)
    if "<!" in body.replace("<!--", ""):  # entities, a second doctype, CDATA tricks
        raise UnsafeSvg("SVG with a DTD subset or entities")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise UnsafeSvg(f"SVG does not parse: {exc}") from None
    if _local(root.tag) != "svg" or _namespace(root.tag) != SVG_NS:
        raise UnsafeSvg("not an SVG document")
    _clean(root)
    return ET.tostring(root, encoding="unicode")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(tag: object) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _clean(element: ET.Element) -> None:
    for name in list(element.attrib):
        if not _attribute_allowed(_local(element.tag), name, element.attrib[name]):
            del element.attrib[name]
    for child in list(element):
        if _namespace(child.tag) != SVG_NS or _local(child.tag) not in ELEMENTS:
            element.remove(child)  # with everything inside it (script text, foreignObject)
        else:
            _clean(child)


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    local = _local(name)
    namespace = _namespace(name)
    if namespace not in ("", XLINK_NS) or local.lower().startswith("on"):
        return False
    if DANGEROUS.search(value):
        return False
    if local == "href":
        target = value.strip()
        return target.startswith("#") or (tag == "image" and bool(RASTER.match(target)))
    if namespace == XLINK_NS:
        return False  # xlink:show, xlink:actuate and friends
    return all(found.startswith("#") for found in URL.findall(value))
