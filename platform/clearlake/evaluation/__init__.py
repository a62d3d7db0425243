"""Continuous evaluation: suites, candidates from git, scores, comparisons, leaderboards.

Everything is per task of the project (:mod:`clearlake.project`). The pieces other parts of
Clearlake use most:

* :class:`~clearlake.evaluation.protocol.Algorithm`: the contract a candidate implements;
* :class:`~clearlake.evaluation.candidates.CandidateKey` and
  :func:`~clearlake.evaluation.candidates.register_candidate`: candidate partitions;
* :func:`~clearlake.evaluation.candidates.candidate_commit_info`: a candidate's commit;
* :func:`~clearlake.evaluation.results.task_results`: a task's stored scores, comparison and
  leaderboard, read from the lake.
"""
