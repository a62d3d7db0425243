"""What the Dagster UI shows of one comparison: a Markdown table and a delta plot.

Both are bounded whatever the number of subgroups: the table lists every metric overall and
then the subgroups whose verdict is significant (regressions first, largest delta relative
to its minimum effect first) up to ``limit`` rows; the plot draws the overall row and the
``limit`` subgroups with the largest such delta. The plot is a small PNG embedded in the
materialisation's Markdown as a data URI (≈15 KB): Dagster's Markdown metadata shows it in
the asset's page, and no file has to be served.
"""

from __future__ import annotations

import base64
import io

import pandas as pd

from clearlake.evaluation.scoring import IMPROVED, REGRESSED

VERDICT_COLOURS = {REGRESSED: "#cf222e", IMPROVED: "#1a7f37"}
OTHER_COLOUR = "#8c959f"


def _relative(frame: pd.DataFrame) -> pd.Series:
    """|delta| in units of the metric's minimum effect (|delta| where none is declared)."""
    effect = (
        pd.to_numeric(frame["min_effect"], errors="coerce").abs()
        if "min_effect" in frame
        else pd.Series(float("nan"), index=frame.index)
    )
    size = frame["delta"].abs()
    return (size / effect.where(effect > 0)).fillna(size)


def _label(row: pd.Series) -> str:
    if row["subgroup_kind"] == "overall":
        return "overall"
    return f"{row['subgroup_kind']}={row['subgroup']}"


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return "—" if pd.isna(number) else f"{number:.4g}"


def significant_rows(frame: pd.DataFrame, *, limit: int) -> pd.DataFrame:
    """Subgroup rows with a significant verdict, regressions first, most severe first."""
    rows = frame[(frame["subgroup_kind"] != "overall") & frame["verdict"].isin(VERDICT_COLOURS)]
    ranked = rows.assign(
        _bad=(rows["verdict"] != REGRESSED).astype(int), _size=-_relative(rows)
    ).sort_values(["_bad", "_size"], kind="stable")
    return ranked.drop(columns=["_bad", "_size"]).head(limit)


def markdown_table(frame: pd.DataFrame, *, limit: int = 12) -> str:
    """Every metric overall, then the significant subgroups (at most ``limit``)."""
    head = [
        "| metric | subgroup | candidate | baseline | delta | interval | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    overall = frame[frame["subgroup_kind"] == "overall"]
    shown = significant_rows(frame, limit=limit)
    lines = [
        f"| {row['metric']} | {_label(row)} | {_number(row['candidate_value'])} | "
        f"{_number(row['baseline_value'])} | {_number(row['delta'])} | "
        f"{_number(row['ci_low'])} … {_number(row['ci_high'])} | {row['verdict']} |"
        for _, row in pd.concat([overall, shown]).iterrows()
    ]
    hidden = int(
        ((frame["subgroup_kind"] != "overall") & frame["verdict"].isin(VERDICT_COLOURS)).sum()
    ) - len(shown)
    note = [f"\n{hidden} more significant subgroup row(s) in the stored table."] if hidden else []
    return "\n".join(head + lines + note)


def delta_plot(frame: pd.DataFrame, *, metric: str, limit: int = 15) -> bytes:
    """PNG: the delta of ``metric`` with its interval, overall and for the subgroups with the
    largest relative delta, coloured by verdict (regressed red, improved green)."""
    import matplotlib  # 0.5 s: imported only when a comparison is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = frame[frame["metric"] == metric]
    overall = rows[rows["subgroup_kind"] == "overall"]
    others = rows[rows["subgroup_kind"] != "overall"]
    others = others.assign(_size=-_relative(others)).sort_values("_size").head(limit)
    shown = pd.concat([overall, others.drop(columns="_size")]).iloc[::-1]
    figure, axes = plt.subplots(figsize=(6, 0.9 + 0.24 * len(shown)), dpi=80)
    for position, (_, row) in enumerate(shown.iterrows()):
        delta, low, high = (float(row[c]) for c in ("delta", "ci_low", "ci_high"))
        colour = VERDICT_COLOURS.get(str(row["verdict"]), OTHER_COLOUR)
        if pd.notna(low) and pd.notna(high):
            axes.plot([low, high], [position, position], color=colour, lw=2)
        axes.plot([delta], [position], "o", color=colour, ms=4)
    axes.set_yticks(range(len(shown)), [_label(r) for _, r in shown.iterrows()], fontsize=7)
    axes.axvline(0, color="#57606a", lw=0.8)
    axes.set_xlabel(f"{metric}: candidate − baseline (interval)", fontsize=8)
    axes.tick_params(axis="x", labelsize=7)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def markdown_image(png: bytes, *, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"
