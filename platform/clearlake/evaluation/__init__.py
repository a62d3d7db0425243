"""Continuous evaluation: suites, candidates from git, scores, comparisons, leaderboard.

The pieces other parts of Clearlake use most:

* :class:`~clearlake.evaluation.protocol.Algorithm`: the contract a candidate implements;
* :class:`~clearlake.evaluation.candidates.CandidateKey` and
  :func:`~clearlake.evaluation.candidates.register_candidate`: candidate partitions;
* :func:`~clearlake.evaluation.candidates.candidate_commit_info`: a candidate's commit;
* :func:`~clearlake.evaluation.config.load_config`: the configuration (profiles included).
"""
