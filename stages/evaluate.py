"""DVC stage `evaluate`: the fine-tuned agent vs its base and a retrieval baseline on held-out tasks, in the sandbox.

Library: termcorpus.stages.evaluate (reads params sections evaluate, execute and mlflow).
"""

from termcorpus.runtime import run_stage
from termcorpus.stages.evaluate import run

if __name__ == "__main__":
    run_stage(
        run, __doc__,
        model="Checkpoint directory (save_pretrained + termcorpus.json).",
        corpus="Corpus dataset directory (train/validation split by family).",
        tasks="Task directory holding tasks.jsonl and heldout.jsonl.",
        gate="Skip the held-out tasks this gate.jsonl (from execute) did not keep.",
        metrics="Metrics JSON to write (success and trace match per set).",
        detail="Write per set / domain / number of steps / skill detail and the set sizes here (JSON).",
        plots="Per-domain success CSV to write.",
        success_plot="Success-rate bar plot PNG to write.",
    )
