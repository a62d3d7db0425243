"""``clearlake compare A B``: two candidates of a task side by side, as plain text or JSON.

Plain lines (no table drawing, no terminal width): a pipe, a file or a CI log gets all of
it. Imports of the evaluation library happen inside the command, so ``--help`` stays light.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from clearlake.evaluation.compare import CandidateComparison

SHOWN_FEATURES = 6
"""Feature columns printed per flipped row (``--json`` has them all)."""


def compare(
    a: Annotated[str, typer.Argument(help="Baseline side: key (repo@1a2b3c4), sha or prefix.")],
    b: Annotated[str, typer.Argument(help="The other candidate: key, sha or sha prefix.")],
    task: Annotated[str | None, typer.Option(help="Only look in this task.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False,
    rows: Annotated[int, typer.Option(help="Rows of the flip table.")] = 10,
) -> None:
    """Compare two candidates of a task on identical rows: metric and subgroup deltas (B − A)
    with intervals and verdicts, commits, parameters, files changed, provenance, the rows
    whose error changed most and the slices that regressed most."""
    from clearlake import names
    from clearlake.cli.runs import instance
    from clearlake.evaluation.compare import ResultPaths, compare_candidates, resolve_pair
    from clearlake.lake.store import LakeStore
    from clearlake.orchestration.lineage import candidate_differences
    from clearlake.project.load import current_project
    from clearlake.settings import load_settings

    settings = load_settings()
    project = current_project(settings)
    store = LakeStore(settings.lake_url)
    if task:
        project.task(task)  # an unknown task is an error naming the known ones
    tasks = [task] if task else sorted(project.config.tasks)
    paths = {
        t: ResultPaths(names.predictions_key(t).path, names.comparison_key(t).path) for t in tasks
    }
    task_name, key_a, key_b = resolve_pair(store, (a, b), paths)
    result = compare_candidates(
        project=project,
        settings=settings,
        store=store,
        task_name=task_name,
        a=key_a,
        b=key_b,
        paths=paths[task_name],
        event_log=candidate_differences(instance()),
        flip_rows=rows,
    )
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, default=str))
        return
    typer.echo("\n".join(text_lines(result)))


def _num(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.4g}" if number == number else "-"


def text_lines(result: CandidateComparison) -> list[str]:
    """The comparison as plain lines (what the command prints)."""
    a, b = result.a, result.b
    lines = [
        f"compare {a.key} (A, baseline side) with {b.key} (B) · task {result.task} · "
        f"{result.rows_note}",
        f"A {a.sha[:12]} {a.subject!r} ({a.author}, {a.committed_at[:16]})",
        f"B {b.sha[:12]} {b.subject!r} ({b.author}, {b.committed_at[:16]})",
    ]
    if result.stages_note:
        lines.append(f"changed: {result.stages_note}")
        lines += [
            f"{label} stages: " + " + ".join(f"{repo}@{sha[:12]}" for repo, sha in s.stages.items())
            for label, s in (("A", a), ("B", b))
        ]
    lines += [f"gate of {s.key}: {s.gate}" for s in (a, b) if s.gate]
    lines += ["", f"deltas B - A ({result.deltas_source}); intervals: {result.interval}"]
    deltas = result.deltas
    primary = deltas["metric"] == result.primary
    changed = deltas["verdict"].isin(["regressed", "improved"])
    shown = deltas[primary | changed]
    for row in shown.to_dict("records"):
        where = (
            "overall"
            if row["subgroup_kind"] == "overall"
            else (f"{row['subgroup_kind']}={row['subgroup']}")
        )
        lines.append(
            f"  {row['metric']:<10} {where:<24} A {_num(row['baseline_value']):>8}  "
            f"B {_num(row['candidate_value']):>8}  delta {_num(row['delta']):>8}  "
            f"[{_num(row['ci_low'])}, {_num(row['ci_high'])}]  n={row['n_rows']}  "
            f"{row['verdict']}"
        )
    hidden = len(deltas) - len(shown)
    if hidden:
        lines.append(
            f"  ({hidden} more row(s) of other metrics, neither regressed nor improved: --json)"
        )
    lines += ["", "parameters: " + ("same" if not result.parameters else "")]
    lines += [f"  {c.field}: A {c.a} -> B {c.b}" for c in result.parameters]
    lines.append(f"files changed: {result.files_note}")
    lines += [
        f"  {f.path}  +{'-' if f.added is None else f.added} "
        f"-{'-' if f.deleted is None else f.deleted}"
        for f in result.files or []
    ]
    lines.append(f"provenance differs ({result.provenance_source}):")
    if not result.provenance:
        lines.append("  nothing: same code, data, parameters and environment")
    lines += [
        f"  {c.kind:<11} {c.where}: {c.field}: A {c.a[:40]} -> B {c.b[:40]}"
        for c in result.provenance
    ]
    counts = result.flip_counts
    lines += [
        "",
        f"rows whose {result.loss} grew most (of {counts['rows']}: {counts['worse']} worse, "
        f"{counts['better']} better, {counts['unchanged']} unchanged"
        + (f", {counts['flipped']} changed class" if "flipped" in counts else "")
        + "):",
    ]
    lines += [_flip_line(row) for row in result.flips.to_dict("records")]
    from clearlake.evaluation.slices import p_text

    search = result.slices
    lines += ["", f"slices that regressed most ({search.to_json()['note']}):"]
    regressed = search.regressed().head(10)
    if regressed.empty:
        lines.append("  none significant")
    for row in regressed.to_dict("records"):
        lines.append(
            f"  {row['slice']:<40} n={row['n_rows']:<6} delta {_num(row['delta'])} "
            f"[{_num(row['ci_low'])}, {_num(row['ci_high'])}] p_adj {p_text(row['p_adjusted'])}"
        )
    lines += [f"note: {n}" for n in result.notes]
    return lines


FLIP_FIXED = ("row_id", "actual", "loss_a", "loss_b", "change")


def _flip_line(row: dict[Any, Any]) -> str:
    rest = [k for k in row if k not in FLIP_FIXED]
    cells = [f"{k}={_num(row[k])}" for k in rest[: SHOWN_FEATURES + 6]]
    return (
        f"  {row['row_id']}  actual {_num(row['actual'])}  loss A {_num(row['loss_a'])} -> "
        f"B {_num(row['loss_b'])} (+{_num(row['change'])})  " + " ".join(cells)
    )
