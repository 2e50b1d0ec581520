"""termcorpus.execute."""
