"""Exports of the intent to other tools' formats (containerlab topologies ...)."""
