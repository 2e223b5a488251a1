"""Pytest fixtures that start the lab (filled in by the lab work; see docs/architecture.md)."""
