"""termcorpus.tracking."""
