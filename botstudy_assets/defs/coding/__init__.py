"""The coding stage."""
