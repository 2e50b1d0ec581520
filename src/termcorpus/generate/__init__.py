"""termcorpus.generate."""
