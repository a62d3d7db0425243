"""Monitoring: a watch on each task's model after it ships (predictions, performance, status)."""
