"""Curation: filters (failed, nonsense, privileged, canary, duplicate, near duplicate, domain cap),
the split by task family, decontamination against the evaluation material, per-skill balancing,
curriculum order, and the Hugging Face corpus the trainer reads (plus Parquet copies and a
rejects file).

Entry point: ``build_corpus(trajectories=..., params=..., out_dir=..., eval_tasks=...) -> metrics``.
Modules: filters (base + simple filters), dedup (MinHash LSH), decontam (n-gram), balance (skill
cap, upsampling), split, dataset (rows, save, card), safety (privileged-command rules).
"""

from termcorpus.curate.build import build_corpus, corpus_counts

__all__ = ["build_corpus", "corpus_counts"]
