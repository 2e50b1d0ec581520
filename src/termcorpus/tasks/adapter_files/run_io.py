"""termcorpus verifier helper -- termcorpus-canary-7f3c2a91 -- never train on this file.

Run a program on each input of a JSON list of {"input", "output"} cases and compare its
standard output (trailing whitespace of each line ignored): ``python3 run_io.py CASES.json
PROGRAM``. Standard library only; it runs inside the task's sandbox.
"""

import json
import subprocess
import sys


def _norm(text):
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def main(argv):
    with open(argv[1], encoding="utf-8") as fh:
        cases = json.load(fh)
    for i, case in enumerate(cases):
        try:
            r = subprocess.run([sys.executable, argv[2]], input=case["input"], capture_output=True,
                               text=True, timeout=10)
        except subprocess.TimeoutExpired:
            print("case %d: timed out" % i)
            return 1
        if _norm(r.stdout) != _norm(case["output"]):
            print("case %d: wrong output" % i)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
