"""termcorpus.validate."""
