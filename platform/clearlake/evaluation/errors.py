"""Errors of continuous evaluation; each names the candidate (or suite) at fault and the fix."""

from __future__ import annotations

from clearlake.errors import ClearlakeError


class CandidateError(ClearlakeError):
    """A candidate (algorithm version) could not be evaluated."""

    def __init__(self, candidate: str, message: str) -> None:
        self.candidate = candidate
        super().__init__(f"Candidate {candidate}: {message}")


class CandidateCrashedError(CandidateError):
    def __init__(self, candidate: str, returncode: int, log_tail: str) -> None:
        self.returncode = returncode
        self.log_tail = log_tail
        super().__init__(
            candidate,
            f"its process exited with code {returncode}. Last lines of its output:\n{log_tail}",
        )


class CandidateTimeoutError(CandidateError):
    def __init__(self, candidate: str, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        super().__init__(
            candidate,
            f"did not finish within {timeout_seconds:g} s and was killed (with its process "
            "group). Make fit/predict faster or raise evaluation.candidate_timeout_seconds.",
        )


class MalformedPredictionsError(CandidateError):
    def __init__(self, candidate: str, problem: str) -> None:
        self.problem = problem
        super().__init__(
            candidate,
            f"returned malformed predictions: {problem}. predict() must return one finite "
            "number per input row, in input order.",
        )


class UnknownRepositoryError(ClearlakeError):
    def __init__(self, repo: str, known: list[str]) -> None:
        self.repo = repo
        super().__init__(
            f"Repository {repo!r} is not registered. Registered: {', '.join(known) or '(none)'}; "
            "add it under `repositories:` in the Clearlake configuration (CLEARLAKE_CONFIG)."
        )


class SuiteNotMaterialisedError(ClearlakeError):
    def __init__(self, suite: str, reason: str) -> None:
        self.suite = suite
        super().__init__(
            f"Evaluation suite {suite!r} is not available ({reason}). Materialise "
            f"evaluation/suites/{suite} and the features it needs first "
            "(for example with `clearlake demo`)."
        )
