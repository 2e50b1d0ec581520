"""termcorpus.train."""
