"""termcorpus.sandbox."""
