"""Exports of the intent to other tools' formats (ANTA catalog, containerlab topology)."""
