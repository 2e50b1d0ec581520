#!/usr/bin/env bash
# Several training arms side by side on one lent GPU (each arm is a CPU-bound Python loop, so
# they share the card), each packed as OUT/<arm>.tgz for `stages/evaluate.py` back home.
# Usage (on the GPU machine, from the repo root, with .whl and .gpu carried):
#   bash bench/gpu_arms.sh OUT_DIR DEADLINE_SEC [names|budget]
# names (2026-11-27, first lease): 8,000 steps of batch 16, renaming off / 50% / 90%, and a wider
# model. budget: how few episodes (steps x batch) copying needs, to size the CPU default.
# .gpu/ holds corpus/ (data/corpus), corpus.jsonl (its JSONL export) and heldout.jsonl.
set -u
out=${1:?OUT_DIR}; deadline=${2:-450}; set_name=${3:-names}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 \
  MLFLOW_DISABLE_TELEMETRY=true OMP_NUM_THREADS=2
corpus=.gpu/corpus
python3 -c "import datasets; datasets.load_from_disk('.gpu/corpus')" 2>/tmp/datasets.err || { corpus=.gpu/corpus.jsonl; tail -n 3 /tmp/datasets.err; }
echo "corpus: $corpus"; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
arm() {  # name, then gpu_train_check args
  local name=$1; shift
  timeout "$deadline" python3 bench/gpu_train_check.py "$corpus" .gpu/heldout.jsonl "/tmp/arms/$name" \
    --n-eval ${NEVAL:-120} --tar "$out/$name.tgz" "$@" >"$out/$name.log" 2>&1
  echo "arm $name exit $?"
}
mkdir -p /tmp/arms
if [ "$set_name" = names ]; then
  arm control --steps 8000 --batch 16 &
  arm fresh50 --steps 8000 --batch 16 --fresh-names 0.5 &
  arm fresh90 --steps 8000 --batch 16 --fresh-names 0.9 &
  arm wide --steps 7000 --batch 16 --fresh-names 0.5 --set lr=0.002 --set hidden_size=192 --set num_layers=6 \
    --set num_heads=6 --set intermediate_size=576 &
else
  arm b8s5000 --steps 5000 --batch 8 &
  arm b16s3000 --steps 3000 --batch 16 &
  arm b16s5000 --steps 5000 --batch 16 &
  arm b32s2500 --steps 2500 --batch 32 &
fi
wait
for f in "$out"/*.log; do echo "== $f"; tail -n 30 "$f"; done
