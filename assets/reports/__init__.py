"""Reports: notebook templates filled per lake day and per candidate, and their gallery."""
