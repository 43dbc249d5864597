"""Small trained heads of the retrieval package and the scripts that rebuild them (``python -m retrieval.heads.train_*``)."""
