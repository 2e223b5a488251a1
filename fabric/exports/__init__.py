"""Exports of the intent to other tools' formats (ANTA catalog ...). Core: no lab import."""
