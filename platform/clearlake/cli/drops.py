"""``clearlake drops``: the drop zone's folders and what waits in them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import typer

from clearlake.cli.output import JsonOption, Listing, make_console
from clearlake.settings import load_settings

if TYPE_CHECKING:
    from clearlake.lake.drops import DropZone

console = make_console()
drops_app = typer.Typer(help="The drop zone: folders where scientists drop files to ingest.")


def project_zones() -> dict[str, DropZone]:
    """The drop zones the project declares (``drops:`` in its clearlake.yaml)."""
    from clearlake.lake import drops
    from clearlake.project.load import current_project

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
def status(as_json: JsonOption = False) -> None:
    """Files being written, waiting, ingested, duplicate and quarantined per dataset."""
    from clearlake.lake import drops

    root = load_settings().drop_root
    columns = ["dataset", "writing", "waiting", "ingested", "duplicates", "quarantined", "folder"]
    view = Listing(columns, wide=("folder",))
    for name in project_zones():
        folder = drops.zone_folder(root, name)
        writing = len([e for e in folder.entries() if e.name.endswith(drops.IN_PROGRESS_SUFFIX)])
        waiting = len(drops.candidates(folder))
        counts = [
            len([e for e in folder.entries(sub) if not e.name.endswith(drops.REASON_SUFFIX)])
            for sub in (drops.INGESTED, drops.DUPLICATES, drops.QUARANTINE)
        ]
        view.add(dict(zip(columns, [name, writing, waiting, *counts, folder.display], strict=True)))
    view.show(as_json=as_json)
