"""termcorpus.report."""
