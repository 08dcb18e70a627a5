"""The interactions stage: what bots do to issues and to people (beyond the paper)."""
