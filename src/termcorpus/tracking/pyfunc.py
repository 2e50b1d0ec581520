"""The registered model as an MLflow pyfunc: instruction + history in, next Terminus-2 action out.

Each version of ``terminal-agent`` in the registry is an MLflow model directory::

    MLmodel, python_env.yaml, requirements.txt, ...
    artifacts/terminal-agent/  byte-identical copy of the DVC-tracked models/terminal-agent
                               (MLmodel names it: python_function.artifacts.checkpoint; weights, tokenizer with its ChatML chat template, termcorpus.json)

so ``mlflow.pyfunc.load_model("models:/terminal-agent@champion")`` works, and the checkpoint
folder itself loads with transformers (``AutoModelForCausalLM.from_pretrained``) after
``mlflow.artifacts.download_artifacts("models:/terminal-agent@champion")``.

``predict`` takes a pandas DataFrame (or a dict / list of dicts) with columns

* ``instruction``: the task text;
* ``history`` (optional): the turns so far, a list of ``{"assistant": reply, "observation":
  what the terminal printed}`` (the episode's alternating assistant / user messages),

and returns one string per row: the model's next reply, a Terminus-2 JSON action (parse it with
``termcorpus.agents.protocol.parse_action``). The chat is rendered exactly as the execute and
evaluate stages do (``first_user_message`` with the model config's ``prompt_style``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc

CHECKPOINT_KEY = "checkpoint"


def _rows(model_input: Any) -> list[dict[str, Any]]:
    if hasattr(model_input, "to_dict"):  # pandas DataFrame
        return model_input.to_dict(orient="records")
    if isinstance(model_input, dict):
        return [model_input]
    return list(model_input)


def chat_of(instruction: str, history: Any, prompt_style: str) -> list[dict[str, str]]:
    """The episode's messages for ``instruction`` after the turns in ``history``."""
    from termcorpus.agents.protocol import first_user_message

    if not isinstance(instruction, str) or not instruction.strip():
        raise ValueError("input field 'instruction': expected a non-empty string")
    msgs = [{"role": "user", "content": first_user_message(instruction, prompt_style)}]
    if history is None or (hasattr(history, "__len__") and len(history) == 0):
        return msgs
    for i, turn in enumerate(list(history)):
        if not isinstance(turn, dict) or "assistant" not in turn or "observation" not in turn:
            raise ValueError(f"input field 'history[{i}]': expected an object with 'assistant' and 'observation'")
        msgs.append({"role": "assistant", "content": str(turn["assistant"])})
        msgs.append({"role": "user", "content": str(turn["observation"])})
    return msgs


class TerminalAgentModel(mlflow.pyfunc.PythonModel):
    """The fine-tuned checkpoint behind MLflow's pyfunc interface (greedy, batched)."""

    def load_context(self, context: Any) -> None:
        from termcorpus.agents.model import HFModelAgent

        cfg = dict(getattr(context, "model_config", None) or {})
        self.prompt_style = str(cfg.get("prompt_style", "compact"))
        self.agent = HFModelAgent(
            context.artifacts[CHECKPOINT_KEY], max_new_tokens=int(cfg.get("max_new_tokens", 320)),
            temperature=0.0, name="registry", device=cfg.get("device") or None,
        )

    # No type hints here: MLflow would read them as the input schema (the signature below is it).
    def predict(self, context, model_input, params=None):
        chats = [chat_of(r.get("instruction"), r.get("history"), self.prompt_style) for r in _rows(model_input)]
        return self.agent.act_batch(chats) if chats else []


def save_pyfunc(path: Path, checkpoint_dir: Path, *, prompt_style: str, max_new_tokens: int) -> None:
    """Write the MLflow model directory for ``checkpoint_dir`` at ``path`` (copies the checkpoint)."""
    import mlflow

    mlflow.pyfunc.save_model(
        path=str(path),
        python_model=TerminalAgentModel(),
        artifacts={CHECKPOINT_KEY: str(checkpoint_dir)},
        model_config={"prompt_style": prompt_style, "max_new_tokens": int(max_new_tokens)},
        # The package itself (its agents, protocol and chat code) serves the model: the
        # environment that loads it must have termcorpus installed (`pip install -e .`).
        pip_requirements=_requirements(),
        signature=_signature(),
    )


def _signature():
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Array, ColSpec, Object, Property, Schema

    history = Array(Object([Property("assistant", "string"), Property("observation", "string")]))
    return ModelSignature(
        inputs=Schema([ColSpec("string", "instruction"), ColSpec(history, "history", required=False)]),
        outputs=Schema([ColSpec("string")]),
    )


def _requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for pkg in ("mlflow", "torch", "transformers", "pandas"):
        try:
            reqs.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            pass
    return reqs
