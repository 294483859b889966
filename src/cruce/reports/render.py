"""A briefing as HTML (one self-contained file) and as PDF (WeasyPrint), in the report's language.

The HTML holds its style and its figures (inline SVG) and loads nothing. The PDF is that HTML laid
out by WeasyPrint, which fetches nothing either: every URL it might meet is refused, so no value
in a record can make the server read a file or reach the network while it writes a report. The
handling marking is printed at the top and the bottom of every page (CSS page margin boxes).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cruce.i18n import catalog
from cruce.reports.briefing import Briefing
from cruce.security.policy import Marking

FORMATS = ("html", "pdf")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
MARKING_TEXT = {
    Marking.CLEAR: "TLP:CLEAR",
    Marking.GREEN: "TLP:GREEN",
    Marking.AMBER: "TLP:AMBER",
    Marking.RED: "TLP:RED",
}


def _(message: str) -> str:
    return message


MARKING_NOTES = {
    Marking.CLEAR: _("disclosure is not limited"),
    Marking.GREEN: _("limited disclosure: within the community, not public"),
    Marking.AMBER: _("limited disclosure: the recipients' organizations, on a need-to-know basis"),
    Marking.RED: _("for the named recipients only"),
}


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("cruce.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html(briefing: Briefing, *, for_pdf: bool = False) -> str:
    """The briefing as one HTML document in its own language."""
    messages = catalog(briefing.lang)

    def tr(message: str) -> str:
        return messages.get(message, message)

    marking = MARKING_TEXT[briefing.marking]
    values: dict[str, Any] = {
        "b": briefing,
        "_": tr,
        "marking": marking,
        "marking_note": tr(MARKING_NOTES[briefing.marking]),
        "for_pdf": for_pdf,
        "css": _css(),
    }
    return _env().get_template("briefing.html").render(**values)


@cache
def _css() -> str:
    from importlib.resources import files

    return (files("cruce.reports") / "templates" / "briefing.css").read_text(encoding="utf-8")


def _refusing_fetcher() -> Any:
    """A WeasyPrint URL fetcher that fetches nothing (everything a briefing shows is inline)."""
    from weasyprint.urls import URLFetcher

    class Refuse(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"a briefing fetches nothing ({url[:40]})")

    return Refuse(allowed_protocols=())


def pdf(briefing: Briefing) -> bytes:
    """The briefing as a PDF (WeasyPrint), the marking on every page."""
    return pdf_of_html(html(briefing, for_pdf=True))


def pdf_of_html(document: str) -> bytes:
    """WeasyPrint on an HTML document, fetching nothing (the benchmark's baseline calls it alone)."""
    from weasyprint import HTML

    result = HTML(string=document, url_fetcher=_refusing_fetcher(), base_url=None).write_pdf()
    assert result is not None
    return bytes(result)


def render(briefing: Briefing, fmt: str) -> bytes:
    if fmt == "pdf":
        return pdf(briefing)
    return html(briefing).encode("utf-8")


def filename(briefing: Briefing, fmt: str) -> str:
    stamp = briefing.generated_at.strftime("%Y%m%d-%H%M")
    return f"cruce-{briefing.kind}-briefing-{briefing.lang}-{stamp}.{fmt}"
