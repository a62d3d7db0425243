"""``clearlake drops``: the drop zone's folders and what waits in them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.table import Table

from clearlake.lake import drops
from clearlake.project.load import current_project
from clearlake.settings import load_settings

console = Console()
drops_app = typer.Typer(help="The drop zone: folders where scientists drop files to ingest.")


def project_zones() -> dict[str, drops.DropZone]:
    """The drop zones the project declares (``drops:`` in its clearlake.yaml)."""
    project = current_project(load_settings())
    return drops.drop_zones(
        {name: zone.model_dump() for name, zone in project.config.drops.items()},
        source=str(project.path),
    )


@drops_app.command("init")
def init() -> None:
    """Create the drop folder of every declared dataset (on S3 a prefix needs none)."""
    root = load_settings().drop_root
    for name in project_zones():
        if urlparse(root).scheme != "s3":
            (Path(root) / name).mkdir(parents=True, exist_ok=True)
        console.print(f"drop files for {name!r} into {root.rstrip('/')}/{name}")


@drops_app.command("status")
def status() -> None:
    """Files being written, waiting, ingested, duplicate and quarantined per dataset."""
    root = load_settings().drop_root
    view = Table("dataset", "writing", "waiting", "ingested", "duplicates", "quarantined", "folder")
    view.columns[0].no_wrap = True
    view.columns[-1].overflow = "fold"
    for name in project_zones():
        folder = drops.zone_folder(root, name)
        writing = len([e for e in folder.entries() if e.name.endswith(drops.IN_PROGRESS_SUFFIX)])
        waiting = len(drops.candidates(folder))
        counts = [
            len([e for e in folder.entries(sub) if not e.name.endswith(drops.REASON_SUFFIX)])
            for sub in (drops.INGESTED, drops.DUPLICATES, drops.QUARANTINE)
        ]
        view.add_row(name, str(writing), str(waiting), *map(str, counts), folder.display)
    console.print(view)


def register(app: typer.Typer) -> None:
    app.add_typer(drops_app, name="drops")
