"""Training scripts for the heads the runtime packages ship (``python -m eval.training.train_*``): outside the runtime
packages, so nothing that serves a request can import a trainer."""
