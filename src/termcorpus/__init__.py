"""termcorpus: verified training data for LLM terminal agents (Terminal-Task-Gen -> Terminal-Corpus -> train -> evaluate)."""

__version__ = "0.1.0"
