"""The demo: a sample algorithm repository and the whole evaluation loop, in-process."""
