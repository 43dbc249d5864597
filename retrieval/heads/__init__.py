"""Small trained heads of the retrieval package (rebuilt by ``python -m eval.training.train_*``)."""
