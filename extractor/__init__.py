"""Parsing and claim extraction: files become grounded Documents and Claims."""

__version__ = "0.1.0"
