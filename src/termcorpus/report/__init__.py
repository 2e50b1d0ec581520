"""Pull-request experiment reports and the ablation grid, built on DVC's own diff commands.

- ``build_report``: params / metrics / plots diff between two revisions as Markdown, with the
  MLflow lineage of both model versions and sample trajectories (``termcorpus report``).
- ``ablate``: the named ablations of ``params_ablations.yaml`` queued as DVC experiments
  (``termcorpus ablate``); ``experiments_report`` tabulates ``dvc exp show`` against the baseline.
"""

from termcorpus.report.ablate import ablate, load_grid
from termcorpus.report.diff import build_report
from termcorpus.report.experiments import experiments_report, experiments_table

__all__ = ["ablate", "build_report", "experiments_report", "experiments_table", "load_grid"]
