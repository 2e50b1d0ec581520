"""DVC stage `balance`: filter, balance and split the validated trajectories into the corpus.

Refuses to run when the validation report says the gate failed. Library: termcorpus.stages.balance.
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.balance import run

if __name__ == "__main__":
    run_stage(
        run, __doc__,
        trajectories="Validated trajectory JSONL.",
        validation="metrics/validation.json of the validate stage.",
        eval_tasks="Held-out task JSONL to decontaminate the training split against.",
        out="Corpus directory to write.",
        metrics="Curation metrics JSON to write.",
        detail="Write the full metrics (per-domain/skill detail) to this JSON; --metrics gets the headline.",
    )
