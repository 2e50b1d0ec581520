"""termcorpus.tasks."""
