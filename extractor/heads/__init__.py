"""Small trained heads of the extractor package (rebuilt by ``python -m eval.training.train_*``)."""
