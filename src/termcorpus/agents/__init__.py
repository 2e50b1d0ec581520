"""termcorpus.agents."""
