"""Passage indexing, search and support checking."""
