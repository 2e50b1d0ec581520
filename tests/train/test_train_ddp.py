"""Two CPU processes under `accelerate launch` (DDP over gloo): one group, one checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from pathlib import Path
from accelerate import PartialState
from termcorpus.params import TrainParams
from termcorpus.train.loop import train

p = TrainParams(vocab_size=320, hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1, head_dim=16,
                intermediate_size=64, max_seq_len=512, batch_size=3, grad_accum=2, max_steps=4,
                warmup_steps=1, log_every=2, register_model=False, bf16=True)
r = train(corpus_dir=Path(sys.argv[1]), out_dir=Path(sys.argv[2]), params=p, progress=False)
st = PartialState()
Path(sys.argv[3], f"rank{st.process_index}.json").write_text(json.dumps(
    {"n": st.num_processes, "type": str(st.distributed_type), "curve": r.loss_curve, "tokens": r.train_tokens,
     "val": r.val_loss}))
"""


@pytest.mark.slow
@pytest.mark.integration
def test_two_process_cpu_ddp_trains_one_model(small_corpus, tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [
        str(accelerate), "launch", "--config_file", str(REPO / "configs/accelerate/cpu_ddp_2proc.yaml"),
        str(script), str(small_corpus), str(tmp_path / "m"), str(tmp_path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in range(2)]
    # Both ranks joined one group (not two lone single-process runs) and agree on the loss.
    assert all(r["n"] == 2 and r["type"] == "DistributedType.MULTI_CPU" for r in ranks)
    assert ranks[0]["curve"] == ranks[1]["curve"] and [s for s, _ in ranks[0]["curve"]] == [2, 4]
    assert ranks[0]["tokens"] > 0
    # 8 validation chats in global batches of 2 x 3: rank 1 has nothing in the last one and must
    # still step along (it would hang FSDP otherwise); both ranks report the same loss.
    assert ranks[0]["val"] == ranks[1]["val"] and ranks[0]["val"] > 0
    saved = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert "model.safetensors" in saved and "termcorpus.json" in saved
    meta = json.loads((tmp_path / "m" / "termcorpus.json").read_text())
    assert meta["num_processes"] == 2


RESUME_SCRIPT = """
import json, sys
from pathlib import Path
from accelerate import PartialState
from termcorpus.params import TrainParams
from termcorpus.train.loop import train

p = TrainParams(vocab_size=320, hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1, head_dim=16,
                intermediate_size=64, max_seq_len=512, batch_size=2, max_steps=6, warmup_steps=1, log_every=2,
                register_model=False, save_every=2, keep_checkpoints=2, bf16=True)
r = train(corpus_dir=Path(sys.argv[1]), out_dir=Path(sys.argv[2]), params=p, checkpoint_dir=Path(sys.argv[3]),
          progress=False)
st = PartialState()
Path(sys.argv[2] + f".rank{st.process_index}.json").write_text(json.dumps(
    {"curve": r.loss_curve, "resumed": r.resumed_from_step, "val": r.val_loss}))
"""


@pytest.mark.slow
@pytest.mark.integration
def test_two_process_ddp_resumes_from_a_step_checkpoint(small_corpus, tmp_path):
    """Each rank saves its own optimizer/RNG state; a rerun resumes both ranks to the same result."""
    import shutil

    from safetensors.torch import load_file
    import torch

    script = tmp_path / "ddp_resume.py"
    script.write_text(RESUME_SCRIPT)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    accelerate = Path(sys.executable).with_name("accelerate")
    ck = tmp_path / "ck"

    def launch(out: str) -> list[dict]:
        cmd = [str(accelerate), "launch", "--config_file", str(REPO / "configs/accelerate/cpu_ddp_2proc.yaml"),
               str(script), str(small_corpus), str(tmp_path / out), str(ck)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return [json.loads((tmp_path / f"{out}.rank{i}.json").read_text()) for i in range(2)]

    first = launch("a")
    assert {"state-rank0.pt", "state-rank1.pt"} <= {p.name for p in (ck / "step-000006").iterdir()}
    shutil.rmtree(ck / "step-000006")  # as if killed between step 4 and step 6
    again = launch("b")
    assert [r["resumed"] for r in again] == [4, 4]
    assert again[0]["curve"] == again[1]["curve"] == first[0]["curve"]
    assert again[0]["val"] == first[0]["val"]
    wa, wb = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
