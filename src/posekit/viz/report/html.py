"""Small HTML building blocks for the report: escaping, tables, embedded images, sections, the page."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

SIGNIFICANT_DIGITS = 4

_MIME_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def escape(text: object) -> str:
    """``text`` as HTML text (``&``, ``<``, ``>`` and quotes escaped)."""
    return html.escape(str(text), quote=True)


def format_value(value: object) -> str:
    """A table cell: floats with 4 significant digits, ``inf``/``nan`` spelled out, the rest as text."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], css_class: str = "metrics") -> str:
    """An HTML table in a box that scrolls sideways when it is wider than the page; numeric cells are
    right-aligned, long text cells wrap."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for value in row:
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            cells.append(f'<td{" class=num" if numeric else ""}>{escape(format_value(value))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="table-wrap"><table class="{escape(css_class)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def data_uri(data: bytes, suffix: str = ".png") -> str:
    """``data:`` URI of an image file's bytes (PNG or JPEG by ``suffix``)."""
    mime = _MIME_TYPES.get(suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def figure(data: bytes, caption: str, suffix: str = ".png") -> str:
    """An embedded image with a caption."""
    return (f'<figure><img src="{data_uri(data, suffix)}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def note(text: str) -> str:
    """A grey remark: why a part is missing or could not be read."""
    return f'<p class="note">{escape(text)}</p>'


@dataclass
class Section:
    """One part of the report: an anchor id, a heading and its HTML body."""

    anchor: str
    title: str
    body: str

    def html(self) -> str:
        return f'<section id="{escape(self.anchor)}"><h2>{escape(self.title)}</h2>{self.body}</section>'


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0; color: #222;
       background: #fafafa; }
header { background: #24323f; color: #fff; padding: 14px 24px; }
header h1 { margin: 0 0 4px 0; font-size: 1.5em; }
header .meta { font-size: 0.85em; opacity: 0.8; }
nav { padding: 8px 24px; background: #eef1f4; border-bottom: 1px solid #d6dbe0; font-size: 0.9em; }
nav a { margin-right: 14px; color: #24527a; text-decoration: none; }
main { padding: 8px 24px 40px 24px; max-width: 1400px; }
section { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px; padding: 8px 18px 14px 18px;
          margin: 16px 0; }
h2 { font-size: 1.2em; border-bottom: 1px solid #eee; padding-bottom: 4px; }
h3 { font-size: 1.0em; margin: 14px 0 6px 0; }
.table-wrap { max-width: 100%; overflow-x: auto; margin: 6px 0 12px 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #d9dde1; padding: 3px 9px; text-align: left; vertical-align: top; }
td { max-width: 36em; overflow-wrap: anywhere; }
th { overflow-wrap: normal; }
th { background: #f1f3f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 10px 0 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 0.85em; }
.note { color: #777; font-style: italic; }
.viewer { border: 1px solid #ddd; border-radius: 4px; }
.viewer-bar { padding: 4px 8px; font-size: 0.85em; background: #f6f8fa; }
.viewer-bar label { margin-right: 12px; white-space: nowrap; }
.viewer-bar button { margin-left: 4px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin: 0 4px -1px 2px; border-radius: 2px; }
.viewer-canvas { display: block; cursor: grab; touch-action: none; }
.viewer-hint { font-size: 0.8em; color: #777; padding: 2px 8px 4px 8px; }
"""


def page(title: str, meta: str, sections: Sequence[Section]) -> str:
    """The whole self-contained document: style, header, table of contents and the sections."""
    toc = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><div class="meta">{escape(meta)}</div></header>'
        f"<nav>{toc}</nav><main>{''.join(s.html() for s in sections)}</main></body></html>\n"
    )
