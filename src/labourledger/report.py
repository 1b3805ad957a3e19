"""HTML of a verified batch: the self-contained tracing report file and the served page.

Both come from one set of jinja2 templates (package data in `templates/`), autoescaped:
bodies come from other parties. The report lays out what US customs asks for under
UFLPA: every production stage from raw material to the finished batch, with its
facility, business-record hashes, audit evidence and findings, the anchor references,
and the verdict with its reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger.exchange import write_output
from labourledger.presentation import Annotations, BatchView, annotate, batch_view

if TYPE_CHECKING:
    import jinja2

    from labourledger.ledger import Ledger

__all__ = ["export_report", "render", "render_report", "stylesheet", "write_report"]


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("labourledger", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def stylesheet() -> str:
    """The one stylesheet: inlined in the report file, served beside the page."""
    return resources.files("labourledger").joinpath("templates/style.css").read_text("utf-8")


def render(template: str, view: BatchView, **context: Any) -> str:
    """Render one of the templates for a batch."""
    return _environment().get_template(template).render(view=view, **context)


def render_report(report: Mapping[str, Any], notes: Annotations | None = None) -> str:
    """The report as one HTML document (no external resources, no scripts)."""
    from markupsafe import Markup

    view = batch_view(report, notes)
    # The stylesheet is ours, not a party's: inlined as is.
    return render("report.html.j2", view, css=Markup(stylesheet()))


def write_report(report: Mapping[str, Any], path: Path, notes: Annotations | None = None) -> Path:
    """Write the report to `path` (UTF-8); returns the path."""
    return write_output(path, render_report(report, notes))


def export_report(ledger: Ledger, batch: str, path: Path) -> dict[str, Any]:
    """Verify a batch (its id or lot) under the workspace's policy and write its tracing
    report, naming the organisations accredited for its accounts; returns the verification
    report."""
    report = ledger.verify(batch)
    write_report(report, path, annotate(ledger, report))
    return report
