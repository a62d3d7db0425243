"""Errors of report templates and report runs; each names the template (and the cell)."""

from __future__ import annotations

from clearlake.errors import ClearlakeError


class TemplateError(ClearlakeError):
    """A report template is unusable as it stands (found at definition load, not at run time)."""

    def __init__(self, template: str, problem: str) -> None:
        self.template = template
        self.problem = problem
        super().__init__(f"Report template {template}: {problem}")


class ReportExecutionError(ClearlakeError):
    """A cell of a report template raised; the partial notebook and its HTML page are kept."""

    def __init__(
        self,
        *,
        template: str,
        partition: str | None,
        cell: int | None,
        source_line: str = "",
        ename: str,
        evalue: str,
        html_path: str | None = None,
    ) -> None:
        self.template = template
        self.partition = partition
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        self.html_path = html_path
        where = f"cell {cell}" if cell is not None else "a cell the platform injected"
        if source_line:
            where += f" (`{source_line}`)"
        target = f"{template}[{partition}]" if partition else template
        kept = f" The partial report is at {html_path}." if html_path else ""
        super().__init__(
            f"Report {target} failed in {where} of notebooks/{template}.ipynb: "
            f"{ename}: {evalue.rstrip('.')}.{kept} Fix the template or its parameters and re-run."
        )
