"""termcorpus verifier helper -- termcorpus-canary-7f3c2a91 -- never train on this file.

Compare a directory tree with the snapshot the task's gold command produced: every path, its
type, its permission bits, and each file's SHA-256. Standard library only: it runs in the task's
sandbox (``python3 check_tree.py EXPECTED.json DIR``) and on the host, where the dataset adapter
takes the snapshot with the same ``snapshot()``.
"""

import hashlib
import json
import os
import stat
import sys


def snapshot(root):
    """{relative path: {"type", "mode", "sha256"/"target"}} of everything below ``root``."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            mode = format(stat.S_IMODE(st.st_mode), "04o")
            if stat.S_ISLNK(st.st_mode):
                tree[rel] = {"type": "link", "target": os.readlink(full)}
            elif stat.S_ISDIR(st.st_mode):
                tree[rel] = {"type": "dir", "mode": mode}
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(full, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 16), b""):
                        h.update(block)
                tree[rel] = {"type": "file", "mode": mode, "sha256": h.hexdigest()}
            else:
                tree[rel] = {"type": "other", "mode": mode}
    return tree


def differences(want, got):
    """Human-readable differences, sorted by path."""
    out = []
    for path in sorted(set(want) | set(got)):
        w, g = want.get(path), got.get(path)
        if w == g:
            continue
        if g is None:
            out.append("missing: " + path)
        elif w is None:
            out.append("unexpected: " + path)
        elif w["type"] != g["type"]:
            out.append("%s: is a %s, expected a %s" % (path, g["type"], w["type"]))
        elif w.get("mode") != g.get("mode"):
            out.append("%s: mode %s, expected %s" % (path, g.get("mode"), w.get("mode")))
        else:
            out.append("%s: content differs" % path)
    return out


def main(argv):
    with open(argv[1], encoding="utf-8") as fh:
        want = json.load(fh)
    diffs = differences(want, snapshot(argv[2]))
    for line in diffs[:10]:
        print(line)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
