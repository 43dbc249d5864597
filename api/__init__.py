"""The FastAPI service, storage and the `vbp` command line."""
