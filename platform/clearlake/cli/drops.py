"""``clearlake drops``: the drop zone's folders and what waits in them."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from clearlake.lake import drops
from clearlake.settings import PROJECT_ROOT, load_settings

console = Console()
drops_app = typer.Typer(help="The drop zone: folders where scientists drop files to ingest.")
DECLARATIONS = PROJECT_ROOT / "assets" / "lake" / "drops.yaml"


@drops_app.command("init")
def init() -> None:
    """Create the drop folder of every declared dataset."""
    root = load_settings().drop_root
    for name in drops.load_datasets(DECLARATIONS):
        (root / name).mkdir(parents=True, exist_ok=True)
        console.print(f"drop files for {name!r} into {root / name}")


@drops_app.command("status")
def status() -> None:
    """Files waiting, ingested and quarantined per dataset."""
    root = load_settings().drop_root
    view = Table("dataset", "waiting", "ingested", "quarantined", "folder")
    for name in drops.load_datasets(DECLARATIONS):
        folder = drops.dataset_folder(root, name)
        waiting = len(drops.pending_files(root, name))
        ingested = len(list((folder / drops.INGESTED).glob("*")))
        refused = len(list((folder / drops.QUARANTINE).glob("*.reason.txt")))
        view.add_row(name, str(waiting), str(ingested), str(refused), str(folder))
    console.print(view)


def register(app: typer.Typer) -> None:
    app.add_typer(drops_app, name="drops")
