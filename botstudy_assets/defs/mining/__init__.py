"""The mining stage."""
