"""Features: typed tables built from the lake, shared by every candidate."""
