"""The nycflights13 example project's own code: feature function, metric, demo set-up."""
