#!/bin/bash
# termcorpus verifier for the imported Terminal-Bench task $task_id: the task's tests run under
# real pytest (the project's verifier environment, /run/termcorpus) in the image's WORKDIR.
TEST_DIR="$$(cd "$$(dirname "$${BASH_SOURCE[0]}")" && pwd)"
export TEST_DIR PYTHONDONTWRITEBYTECODE=1
_logs="$${LOGS_DIR:-/logs/verifier}"
_reward() { mkdir -p "$$_logs" 2>/dev/null && echo "$$1" > "$$_logs/reward.txt" 2>/dev/null; true; }
cd "$${APP_DIR:-$workdir}" || { echo "termcorpus: no working directory $workdir"; _reward 0; exit 1; }
$run
rc=$$?
if [ "$$rc" -eq 0 ]; then _reward 1; else _reward 0; fi
exit "$$rc"
