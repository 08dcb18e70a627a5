"""The detection stage."""
