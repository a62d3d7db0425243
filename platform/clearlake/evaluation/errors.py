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
    def __init__(
        self,
        candidate: str,
        problem: str,
        *,
        expected: str = "one finite number per input row, in input order",
    ) -> None:
        self.problem = problem
        self.expected = expected
        super().__init__(
            candidate,
            f"returned malformed predictions: {problem}. predict() must return {expected}.",
        )


class StageOutputError(ClearlakeError):
    """A transform stage's output broke its declared schema (or was no frame at all)."""

    def __init__(self, stage: str, problem: str) -> None:
        self.stage = stage
        self.problem = problem
        super().__init__(
            f"stage {stage}: {problem} (fix the stage, or its `output.columns` in the task's "
            "pipeline)"
        )


class SuiteNotMaterialisedError(ClearlakeError):
    def __init__(self, task: str, suite: str, reason: str) -> None:
        self.task = task
        self.suite = suite
        super().__init__(
            f"Evaluation suite {suite!r} of task {task!r} is not available ({reason}). "
            f"Build it with `clearlake build --task {task}` (it builds the lake days and "
            f"features evaluation/{task}/suites/{suite} needs first)."
        )


class CalibrationError(ClearlakeError):
    """A task's gate cannot be calibrated (yet): the message says what to do first."""

    def __init__(self, task: str, problem: str) -> None:
        self.task = task
        self.problem = problem
        super().__init__(f"Cannot calibrate the gate of task {task}: {problem}.")
