"""Helpers called from report templates (tool building: no logic copy-pasted into cells).

A template runs the same code in Jupyter (the parameters cell's defaults), through
``clearlake reports run`` and in a Dagster step: inputs are read from where the lake IO
manager stores them (the platform passes their asset paths as the ``inputs`` parameter),
results go back through :func:`publish_summary`, and :func:`show_provenance` shows the
record Dagster passed, or a local one.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from clearlake.lake.store import LakeStore
from clearlake.project import TaskConfig
from clearlake.project.load import current_project
from clearlake.provenance import environment_lock_hash, platform_commit
from clearlake.reports.render import SUMMARY_MIMETYPE
from clearlake.reports.templates import TemplateError
from clearlake.settings import load_settings
from clearlake.versioning import json_version


def _store() -> LakeStore:
    return LakeStore(load_settings().lake_url)


def asset_partitions(asset_key: str) -> list[str]:
    """Partition keys of a candidate-partitioned asset stored by the lake IO manager."""
    return _store().list_partitions(asset_key, prefix="key=")


def asset_frame(asset_key: str, partition: str | None = None) -> pd.DataFrame:
    """An asset's stored output (``<lake>/<asset key>/key=<partition>/data.parquet``).

    The same file Dagster's IO manager hands to the notebook; used when the template runs
    outside Dagster.
    """
    store = _store()
    path = store.partition_file(asset_key, f"key={partition}" if partition else None)
    if not store.exists(path):
        known = ", ".join(asset_partitions(asset_key)[-5:]) or "none"
        raise TemplateError(
            asset_key,
            f"no stored output for partition {partition!r} at {path} (latest partitions: "
            f"{known}); materialise it in Dagster or pass another partition.",
        )
    return store.read_table(path).to_pandas()


def stored_frame(asset_key: str, partition: str | None) -> pd.DataFrame | None:
    """An asset's stored output, or ``None`` when there is none (an optional overlay)."""
    if partition is None:
        return None
    store = _store()
    path = store.partition_file(asset_key, f"key={partition}")
    return store.read_table(path).to_pandas() if store.exists(path) else None


def task_config(task: str) -> TaskConfig:
    """The task's declaration (type, target, unit, classes…) in the current project."""
    return current_project(load_settings()).task(task)


def local_provenance(template: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance of a run outside Dagster (papermill or Jupyter): no run, no inputs."""
    return {
        "template": f"{template}.ipynb",
        "platform_commit": platform_commit(),
        "environment_lock_hash": environment_lock_hash(),
        "run_id": "local (outside Dagster)",
        "parameters": dict(parameters),
        "parameters_hash": json_version(dict(parameters)),
        "inputs": {},
    }


def _rows(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for name in (
        "template",
        "template_hash",
        "code_version",
        "platform_commit",
        "candidate_repo",
        "candidate_commit",
        "commit_message",
        "commit_author",
        "committed_at",
        "candidate_params",
        "candidate_parameters",
        "environment_lock_hash",
        "run_id",
        "partition",
        "parameters_hash",
    ):
        if record.get(name) is not None:
            rows.append((name, str(record[name])))
    rows.append(("parameters", json.dumps(record.get("parameters", {}), sort_keys=True)))
    for key, entry in sorted(record.get("inputs", {}).items()):
        meta = entry.get("metadata") or {}
        detail = ", ".join(
            f"{k}={v}" for k, v in sorted(meta.items()) if k not in ("path", "bytes")
        )
        version = (
            f"data version {entry['data_version']} · run {entry.get('run_id')}"
            if entry.get("data_version")
            else "not materialised through Dagster (read as stored)"
        )
        rows.append(
            (
                f"input {key}",
                version
                + (f" · partition {entry['partitions']}" if entry.get("partitions") else "")
                + (f" · {detail}" if detail else ""),
            )
        )
    return rows


def provenance_html(record: Mapping[str, Any]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
        for k, v in _rows(record)
    )
    return (
        "<details class='clearlake-provenance'><summary><strong>Provenance</strong> "
        "(code + data + parameters: open to see)</summary>"
        f"<table>{cells}</table></details>"
    )


def provenance_of(
    provenance: Mapping[str, Any] | None, *, template: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The record Dagster passed, or one computed locally (no run, no inputs)."""
    return dict(provenance) if provenance else local_provenance(template, parameters)


def show_provenance(
    provenance: Mapping[str, Any] | None, *, template: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """Display the provenance block, collapsed (the report's findings come first)."""
    record = provenance_of(provenance, template=template, parameters=parameters)
    _display_html(provenance_html(record))
    return record


def _display_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))  # type: ignore[no-untyped-call]


def _display_raw(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)  # type: ignore[no-untyped-call]


def publish_summary(**fields: Any) -> dict[str, str]:
    """Hand short results (e.g. ``verdict``) to the gallery and the Dagster metadata.

    Emitted as a display output with a private MIME type: invisible on the page, read
    from the executed notebook by the report asset.
    """
    summary = {k: str(v) for k, v in fields.items()}
    _display_raw({SUMMARY_MIMETYPE: summary})
    return summary


def show_figure(figure: Any, *, alt: str | None = None, dpi: int = 100) -> None:
    """Display a matplotlib figure as an embedded PNG with alt text (any backend), free it."""
    import base64
    import io

    import matplotlib.pyplot as plt

    described = alt or "; ".join(a.get_title() for a in figure.get_axes() if a.get_title())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    _display_html(
        f'<img alt="{html.escape(described or "figure")}" src="data:image/png;base64,{encoded}"/>'
    )


def latest_partition(asset_key: str) -> str:
    """The newest stored partition of a candidate-partitioned asset (default for templates)."""
    store = _store()
    keys = asset_partitions(asset_key)
    if not keys:
        raise TemplateError(
            asset_key,
            "nothing is stored yet; materialise it in Dagster (or run `clearlake demo`) "
            "or pass the partition as a parameter.",
        )

    def written(key: str) -> float:
        info = store.fs.get_file_info(store.partition_file(asset_key, f"key={key}"))
        return info.mtime.timestamp() if info.mtime else 0.0

    return max(keys, key=written)
