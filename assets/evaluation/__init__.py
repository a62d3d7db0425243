"""Evaluation: suites, candidates (predictions, scores, comparisons), leaderboard, sensor."""
