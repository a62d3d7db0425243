"""A candidate's verdict in the gallery before its report: "report pending".

The comparison step stores the gate outcome in the lake (:mod:`clearlake.evaluation.gate`)
before the comparison is materialised; the candidate's report notebook comes a step later,
or a follow-up run later when the blocking regression check stopped the run. On the
production-shaped stack that wait was 9 s idle and 49 s under load (benchmarks/stack_loop.py),
and the commit page CI links to did not exist until then. So the gallery lists a candidate
with a stored outcome and no report with that outcome's headline and "report pending",
read from the same record the check and CI print (nothing is re-derived), and the report's
own entry replaces it once its record exists. The Data API does this per request, so a
verdict is visible through ``/reports`` as soon as it is stored, without a gallery build.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from clearlake.evaluation import gate
from clearlake.lake.store import LakeStore
from clearlake.reports.execute import ReportRecord
from clearlake.reports.gallery import PENDING

_JSON = ".json"


def pending_record(outcome: gate.GateOutcome, *, stored_at: dt.datetime | None) -> ReportRecord:
    """The gallery entry of a stored outcome: the gate headline, no page yet."""
    when = stored_at.astimezone(dt.UTC).isoformat(timespec="seconds") if stored_at else ""
    return ReportRecord(
        template="",
        partition=outcome.candidate,
        status=PENDING,
        run_id="",
        created_at=when,
        notebook="",
        html="",
        scope="candidate",
        task=outcome.task,
        summary={
            "gate": outcome.status,
            "gate_summary": outcome.headline(),
            "baseline": outcome.baseline or "none",
        },
    )


def pending_verdicts(
    store: LakeStore, tasks: Iterable[str], records: Sequence[ReportRecord]
) -> list[ReportRecord]:
    """Entries for the candidates of ``tasks`` with a stored outcome and no report record.

    One LIST of each task's outcome folder, then one read per candidate without a report
    (the few whose report is still to come), never one per reported candidate.
    """
    reported = {(r.task, r.partition) for r in records if r.scope == "candidate"}
    found = []
    for task in sorted(tasks):
        stored = store.list_files(gate.gate_table(task), _JSON)
        for key, stored_at in sorted(stored.items()):
            if (task, key) in reported:
                continue
            outcome = gate.load_outcome(store, task, key)
            if outcome is not None:
                found.append(pending_record(outcome, stored_at=stored_at))
    return found
