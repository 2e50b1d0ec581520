"""The local (unsafe, debugging) backend speaks the same shell protocol."""

import dataclasses

from termcorpus.sandbox import open_session


def test_local_backend_keeps_state_and_times_out(task, config):
    cfg = dataclasses.replace(config, backend="local")
    with open_session(task, cfg) as s:
        assert s.run("cat hello.txt").output == "hello\n"
        s.run("cd bin; X=7")
        assert s.run("echo $X; basename $PWD").output == "7\nbin\n"
        r = s.run("sleep 30 & sleep 30", timeout_sec=0.3)
        assert r.timed_out
        assert s.run("echo still").output == "still\n"
        root = s.root
    assert not root.exists()
