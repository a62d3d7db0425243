"""Reading candidate partition keys (``<repo>@<short sha>[~<param hash>]``) for reports.

Stop-gap until ``clearlake.evaluation.candidates.CandidateKey.parse`` exists; then
this module delegates to it and can be deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clearlake.errors import ClearlakeError

_KEY = re.compile(r"^(?P<repo>[^@~\s]+)@(?P<commit>[0-9A-Za-z]+)(?:~(?P<params>[0-9A-Za-z]+))?$")


@dataclass(frozen=True)
class CandidateParts:
    repo: str
    commit: str
    params: str | None

    @property
    def commit_key(self) -> str:
        """``<repo>@<commit>``: what all parameter variants of one commit share."""
        return f"{self.repo}@{self.commit}"


def parse_candidate(key: str) -> CandidateParts:
    match = _KEY.match(key)
    if match is None:
        raise ClearlakeError(
            f"Candidate key {key!r} is malformed: use <repo>@<commit>[~<param hash>], "
            "for example delay_model@1a2b3c4 or delay_model@1a2b3c4~deadbeef."
        )
    return CandidateParts(match["repo"], match["commit"], match["params"])


def candidate_provenance(key: str) -> dict[str, str]:
    parts = parse_candidate(key)
    record = {"candidate_repo": parts.repo, "candidate_commit": parts.commit}
    if parts.params:
        record["candidate_params"] = parts.params
    return record
