"""Readers that turn PDF, text and Markdown files into Documents."""
