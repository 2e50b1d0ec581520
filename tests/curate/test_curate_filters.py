"""Filters drop only what they should, and count every drop by reason."""

from __future__ import annotations

from termcorpus.curate.filters import (
    CanaryFilter,
    DomainCapFilter,
    ExactDedupFilter,
    FailedFilter,
    Filter,
    NonsenseFilter,
    SafetyFilter,
)
from termcorpus.curate.samples import make_trajectory
from termcorpus.records import CANARY, Message


def test_base_counts_kept_dropped_and_reasons():
    class Odd(Filter):
        name = "odd"

        def filter(self, record):
            n = int(record.id[1:])
            if n % 3 == 0:
                return False, "three"
            return n % 2 == 0

    recs = [make_trajectory(f"t{i}") for i in range(7)]
    f = Odd()
    kept = f.run(recs)
    assert [r.id for r in kept] == ["t2", "t4"]
    assert f.counts() == {"kept": 2, "dropped": 5, "dropped_three": 3, "dropped_odd": 2}
    assert f.counts()["kept"] + f.counts()["dropped"] == len(recs)


def test_failed_filter_drops_unverified():
    f = FailedFilter()
    kept = f.run([make_trajectory("a"), make_trajectory("b", passed=False)])
    assert [r.id for r in kept] == ["a"] and f.counts()["dropped_failed"] == 1


def test_safety_filter_names_the_rule():
    f = SafetyFilter()
    kept = f.run([
        make_trajectory("ok", commands=[["rm -rf build"]]),
        make_trajectory("bad", commands=[["ls"], ["rm -rf /"]]),
        make_trajectory("worse", commands=[["sudo id"]]),
    ])
    assert [r.id for r in kept] == ["ok"]
    assert f.counts() == {"kept": 1, "dropped": 2, "dropped_privileged_rm_root": 1, "dropped_privileged_sudo": 1}


def test_nonsense_filter_reasons():
    good = make_trajectory("good")
    unparsed = make_trajectory("unparsed")
    unparsed.messages[1] = Message(role="assistant", content="I think we should run ls")
    garbage = make_trajectory("garbage", commands=[["cat blob"]])
    garbage.messages[0] = Message(role="user", content="Task:" + "\x00\x01\ufffd" * 50)
    empty = make_trajectory("empty")
    empty.messages = [empty.messages[0]]
    turn_error = make_trajectory("turn_error")
    turn_error.turns[0].action, turn_error.turns[0].parse_error = None, "no JSON object"
    f = NonsenseFilter()
    kept = f.run([good, unparsed, garbage, empty, turn_error])
    assert [r.id for r in kept] == ["good"]
    c = f.counts()
    assert c["dropped_unparsed_turn"] == 2 and c["dropped_binary_garbage"] == 1 and c["dropped_empty_chat"] == 1


def test_empty_observation_is_not_nonsense():
    t = make_trajectory("t", commands=[["touch a"], ["ls"]])
    t.messages[2] = Message(role="user", content="")
    assert NonsenseFilter().run([t]) == [t]


def test_canary_filter():
    t = make_trajectory("leak")
    t.messages[-1].content += CANARY
    f = CanaryFilter()
    assert f.run([make_trajectory("clean"), t])[0].id == "clean"
    assert f.counts()["dropped_canary"] == 1


def test_exact_dedup_keeps_first_of_identical_chats():
    a, b = make_trajectory("a", task_id="x"), make_trajectory("b", task_id="y")  # same messages
    c = make_trajectory("c", commands=[["pwd"]])
    f = ExactDedupFilter()
    assert [r.id for r in f.run([a, b, c])] == ["a", "c"]
    assert f.counts()["dropped_duplicate"] == 1


def test_domain_cap_is_seeded_and_per_domain():
    recs = [make_trajectory(f"f{i}", commands=[[f"ls {i}"]]) for i in range(10)]
    recs += [make_trajectory(f"d{i}", domain="data_processing", skills=["awk"], commands=[[f"wc {i}"]]) for i in range(2)]

    def run(seed):
        f = DomainCapFilter(3, seed).fit(recs)
        return [r.id for r in f.run(recs)], f.counts()

    ids0, counts0 = run(0)
    assert run(0)[0] == ids0
    assert sum(i.startswith("f") for i in ids0) == 3 and {"d0", "d1"} <= set(ids0)
    assert counts0["dropped_domain_cap"] == 7
    assert any(run(s)[0] != ids0 for s in range(1, 6)), "the seed should change the choice"
