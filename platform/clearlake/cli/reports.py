"""``clearlake reports``: list, open and locally run report templates; rebuild the gallery."""

from __future__ import annotations

import json
import os
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clearlake.cli.output import JsonOption, Listing, make_console
from clearlake.errors import ClearlakeError
from clearlake.settings import ENV_VARS, load_settings

if TYPE_CHECKING:
    from clearlake.reports.templates import Template

console = make_console()
reports_app = typer.Typer(help="Report notebooks: what exists, where, and trying a template.")


def _value(text: str) -> Any:
    """``-p name=value``: JSON when it parses (numbers, lists, null), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def known_template(template: str) -> Template:
    """The project's or the platform's template ``template``; an unknown name is an error
    naming the known ones."""
    from clearlake.project.load import current_project
    from clearlake.reports.templates import TemplateError, discover, template_folders

    templates = {t.name: t for t in discover(template_folders(current_project(load_settings())))}
    if template not in templates:
        raise TemplateError(
            template, f"no such template; known templates: {', '.join(sorted(templates))}."
        )
    return templates[template]


@reports_app.command("list")
def list_reports(
    template: Annotated[str | None, typer.Option(help="Only this template.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed reports.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Every stored report: template, partition, status, verdict and page."""
    from clearlake.reports.execute import read_records

    if template is not None:
        known_template(template)
    root = load_settings().reports_root
    records = [
        r
        for r in read_records(root)
        if (template is None or r.template == template) and (not failed or r.status == "failed")
    ]
    if not records and not as_json:
        typer.echo(f"No reports under {root}: materialise reports/* in Dagster first.", err=True)
        return
    view = Listing(["template", "partition", "status", "verdict", "made", "page"], wide=("page",))
    for r in records:
        view.add(
            {
                "template": r.template,
                "partition": r.partition,
                "status": r.status,
                "verdict": r.summary.get("verdict"),
                "made": r.created_at,
                "page": str(root / r.html),
            }
        )
    view.show(as_json=as_json)


@reports_app.command("open")
def open_report(
    template: Annotated[str, typer.Argument(help="Template name, e.g. candidate_report.")],
    partition: Annotated[str | None, typer.Argument(help="Partition key (day, candidate).")] = None,
    notebook: Annotated[bool, typer.Option(help="The .ipynb instead of the page.")] = False,
    browser: Annotated[bool, typer.Option(help="Open it in a web browser.")] = False,
    variant: Annotated[
        str | None, typer.Option(help="A variant's parameter hash (default: the default report).")
    ] = None,
    path: Annotated[bool, typer.Option("--path", help="Print the file path instead.")] = False,
) -> None:
    """Print the report's URL (one line: the page people open); optionally open it.

    The URL is built now from CLEARLAKE_PUBLIC_URL, so a changed address is never stale.
    """
    from clearlake.reports.execute import ReportPaths, report_url

    known_template(template)
    settings = load_settings()
    paths = ReportPaths(settings.reports_root, template, partition, variant)
    target = paths.notebook if notebook else paths.html
    if not target.is_file():
        raise ClearlakeError(
            f"No report {template}[{partition}] at {target}: list them with "
            "`clearlake reports list`, or materialise it in Dagster."
        )
    relative = target.relative_to(settings.reports_root).as_posix()
    url = report_url(settings.reports_root, relative, base_url=settings.reports_url)
    typer.echo(str(target) if path else url)  # not rich: a long URL must stay on one line
    if browser:
        webbrowser.open(url)


@reports_app.command("run")
def run_report(
    template: Annotated[str, typer.Argument(help="Template name (platform or project).")],
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="name=value (JSON values parsed); repeatable."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Directory for the report files.")] = None,
) -> None:
    """Run a template outside Dagster (papermill + nbconvert), e.g. while writing it.

    A candidate template gets its task's ``inputs`` from ``-p task=<task>``.
    """
    from clearlake import names
    from clearlake.reports.execute import run_template

    values = {}
    for item in parameter or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise ClearlakeError(
                f"Parameter {item!r} is not name=value: write e.g. -p day=2024-01-05."
            )
        values[name.strip()] = _value(text)
    settings = load_settings()
    chosen = known_template(template)
    if chosen.scope == "candidate" and "task" in values and "inputs" not in values:
        values["inputs"] = names.task_report_inputs(str(values["task"]))
    directory = output or settings.home / "scratch"
    # The kernel runs in the template's folder: without this, a default (relative)
    # CLEARLAKE_HOME would point it at an empty ./.clearlake there (it read 0 rows).
    before = os.environ.get(ENV_VARS["home"])
    os.environ[ENV_VARS["home"]] = str(settings.home)
    try:
        with console.status(f"running {template}"):
            record = run_template(chosen, values, output_dir=directory)
    finally:
        if before is None:
            del os.environ[ENV_VARS["home"]]
        else:
            os.environ[ENV_VARS["home"]] = before
    console.print(f"{directory / record.html}\n{directory / record.notebook}")
    for name, value in record.summary.items():
        console.print(f"  {name}: {value}")


@reports_app.command("gallery")
def gallery() -> None:
    """Rebuild the gallery index from the stored reports (what reports/report_gallery does)."""
    from clearlake.reports.gallery_books import build_gallery

    built = build_gallery(load_settings().reports_root)
    console.print(f"{built.index} ({built.reports} reports, {len(built.commit_pages)} commits)")
