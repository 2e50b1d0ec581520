"""termcorpus.evaluate."""
