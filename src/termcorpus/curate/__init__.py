"""termcorpus.curate."""
