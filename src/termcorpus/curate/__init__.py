"""Curation: filters (failed, nonsense, privileged, canary, duplicate, domain cap), the split by
task family, curriculum order, and the Hugging Face corpus the trainer reads.

Entry point: ``build_corpus(trajectories=..., params=..., out_dir=...) -> metrics``.
"""

from termcorpus.curate.build import build_corpus, corpus_counts

__all__ = ["build_corpus", "corpus_counts"]
