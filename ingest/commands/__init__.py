"""CLI layer of the ingest package: argument parsing only; the work happens in the modules it calls."""
