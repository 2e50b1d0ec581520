"""Held-out evaluation: the fine-tuned agent against its untrained base, in the sandbox.

The sets (see ``sets``): new variants of trained templates, compositions of unseen skill
sequences, families never trained on, trained templates with made-up names, and user task dirs
(``extra``); a held-out task that failed the execute stage's validity gate is skipped. Three
agents: ``finetuned`` (the checkpoint), ``retrieval`` (agents/retrieval.py: replays the training
episode whose instruction is nearest by TF-IDF, with the new instruction's words substituted; a
baseline that is not noise) and ``base`` (the same model before training). When the
checkpoint was trained from scratch (``termcorpus.json`` ``base_model: "tiny"``) the base is a
fresh initialisation from its config, seeded like training; when ``base_model`` names a
checkpoint directory, the base is that checkpoint. Every episode runs in a real sandbox session
and is scored by the task's verifier; episodes are stepped in lockstep batches (``runner``).
A task that is in two sets runs once and counts in both. With ``temperature > 0`` every task
runs ``trials`` times, trial ``k`` sampling from its own seed (``trial_seed``), and success is
reported as the mean over trials with its standard error. The agents are built in ``agents``, the
run is ``model.evaluate_model``; metrics: ``metrics``; plot and its CSV: ``plots``.
"""

from __future__ import annotations

from termcorpus.evaluate.agents import AGENTS, META_FILE, build_agents, build_retrieval, read_meta
from termcorpus.evaluate.model import evaluate_model, n_trials, torch_threads, trial_seed
from termcorpus.evaluate.plots import write_plot_csv, write_success_plot
from termcorpus.evaluate.sets import EVAL_SETS

__all__ = ["AGENTS", "EVAL_SETS", "META_FILE", "build_agents", "build_retrieval", "evaluate_model", "n_trials",
           "read_meta", "torch_threads", "trial_seed", "write_plot_csv", "write_success_plot"]
