"""The ``clearlake`` command line. Each module here registers its own commands."""
