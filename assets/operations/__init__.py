"""Operations: alerts on the platform itself (failed runs, erroring sensors)."""
