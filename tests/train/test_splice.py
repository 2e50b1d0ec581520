"""train.splice_episodes: composed chats cut at a step that another chain's step replaces, made from
real oracle episodes of real composed tasks (bwrap)."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from pathlib import Path

import pytest

from termcorpus.agents.oracle import OracleAgent
from termcorpus.curate.dataset import to_row
from termcorpus.execute.episode import run_episode
from termcorpus.generate.catalog import load_taxonomy
from termcorpus.generate.compose import compose_split, reserved_pair
from termcorpus.records import Action, Lineage
from termcorpus.sandbox.config import SandboxConfig
from termcorpus.train import data as D
from termcorpus.train.copy_episodes import interleave
from termcorpus.train.splice import LOOK_PLAN, parse_steps, splice_episodes

REPO = Path(__file__).resolve().parents[2]
GEN_SEED, RESERVE_PCT = 11, 10

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def composed():
    """(tasks, chats): 36 composed training tasks and their real oracle episodes as corpus chats."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed: the splice tests cut real oracle episodes")
    skills = load_taxonomy(REPO / "data/skills").skills
    tasks, _ = compose_split(skills, gen_seed=GEN_SEED, n_train=36, n_heldout=4, n_novel_pairs=2, min_skills=3,
                             max_skills=5, reserve_pct=RESERVE_PCT, drops=Counter())
    cfg = SandboxConfig(backend="bwrap", timeout_sec=20.0, memory_mb=1024, max_procs=128)
    chats = []
    for t in tasks:
        traj = run_episode(t, OracleAgent(), cfg, max_turns=16, prompt_style="compact",
                           lineage=Lineage(task_digest=t.digest()))
        assert traj.passed, t.id
        chats.append(D._chat_from_row(to_row(traj), t.id))
    return tasks, chats


def _flat(steps):
    return [m for g in steps.groups for m in g]


def test_composed_episodes_parse_back_into_their_steps(composed):
    tasks, chats = composed
    looks = parsed = 0
    for t, chat in zip(tasks, chats):
        st = parse_steps(chat)
        plans = [Action.model_validate_json(c).plan for r, c in chat.messages if r == "assistant"][:-1]
        if st is None:
            # only a step typed as several commands is not cut: more command turns than steps
            assert sum(not p.startswith(LOOK_PLAN) for p in plans) > len(t.skills), t.id
            continue
        parsed += 1
        assert st.skills == tuple(t.skills) and len(st.texts) == len(t.skills)
        assert st.instruction(st.texts) == chat.messages[0][1]  # the instruction, byte for byte
        assert _flat(st) == list(chat.messages[1:-1])  # every turn but the closing one, in order
        looks += sum(len(g) == 4 for g in st.groups)
    assert parsed >= 0.75 * len(chats) and looks > 0  # look turns are grouped with the step after them
    # what is not a composition is left alone
    assert parse_steps(dataclasses.replace(chats[0], skills=chats[0].skills[:1])) is None
    assert parse_steps(dataclasses.replace(chats[0], messages=chats[0].messages[:-1])) is None


def test_the_oracle_still_writes_the_look_plan_the_splicer_groups_by(composed):
    tasks, _ = composed
    t = next(t for t in tasks if t.derivations)
    look = OracleAgent().action_for(t, t.derivations[0].turn - 1)
    assert look.plan.startswith(LOOK_PLAN)


def test_a_splice_keeps_real_turns_before_its_cut_and_ends_on_a_donors_real_reply(composed):
    tasks, chats = composed
    splices = splice_episodes(chats, 2.0, seed=0)
    n_parsed = sum(parse_steps(c) is not None for c in chats)
    assert len(splices) == 2 * n_parsed  # a first step can always be cut
    reserved = lambda a, b: reserved_pair(GEN_SEED, a, b, RESERVE_PCT)  # noqa: E731
    trained_pairs = {(a, b) for t in tasks for a, b in zip(t.skills, t.skills[1:])}
    cuts = Counter()
    for i, sp in splices:
        src = parse_steps(chats[i])
        assert sp.origin == "splice" and sp.messages[-1][0] == "assistant"
        # the turns before the cut are the source's own, message for message
        body = list(sp.messages[1:-1])
        n_before = next(k for k in range(len(src.groups) + 1) if sum(len(g) for g in src.groups[:k]) == len(body))
        cuts[n_before] += 1
        assert body == [m for g in src.groups[:n_before] for m in g]
        assert sp.skills[:n_before] == src.skills[:n_before] and sp.skills[n_before] != src.skills[n_before]
        # the last reply is a donor's real command, with the analysis the source had at that turn
        last = Action.model_validate_json(sp.messages[-1][1])
        own = Action.model_validate_json(src.groups[n_before][0][1])
        assert last.analysis == own.analysis
        donors = [j for j, c in enumerate(chats) if j != i and any(
            m[0] == "assistant" and Action.model_validate_json(m[1]).commands == last.commands for m in c.messages)]
        assert donors, sp.messages[-1][1]
        # the instruction has the source's header and as many steps; its words are training steps' words
        assert sp.messages[0][1].startswith(src.header) and len(sp.skills) <= len(src.skills)
        for a, b in zip(sp.skills, sp.skills[1:]):
            assert (a, b) in trained_pairs and not reserved(a, b)
        assert set(chats[i].slot_values) <= set(sp.slot_values)
    assert len(cuts) >= 3 and cuts[0] > 0  # cuts at the first step and later ones
    assert splice_episodes(chats, 2.0, seed=0) == splices and splice_episodes(chats, 2.0, seed=1) != splices


def test_the_rate_counts_splices_per_composed_chat_and_others_get_none(composed):
    _, chats = composed
    assert splice_episodes(chats, 0.0, 0) == []
    parsed = [i for i, c in enumerate(chats) if parse_steps(c) is not None]
    assert [i for i, _ in splice_episodes(chats, 1.0, 0)] == parsed
    half = splice_episodes(chats, 0.5, 0)
    assert 0.2 * len(chats) < len(half) < 0.8 * len(chats)
    plain = [D.Chat(messages=(("user", "Task: list files"), ("assistant", "{}")))] * 5
    assert splice_episodes(plain, 2.0, 0) == []
    mixed = interleave(chats, half)
    for i, sp in half:
        assert mixed[mixed.index(chats[i]) + 1] == sp


def test_train_counts_its_splice_episodes(composed, tiny_params, tmp_path):
    from termcorpus.train.loop import train
    import datasets

    _, chats = composed
    rows = {"messages": [[{"role": r, "content": c} for r, c in ch.messages] for ch in chats],
            "slot_values": [list(ch.slot_values) for ch in chats], "skills": [list(ch.skills) for ch in chats]}
    split = len(chats) - 6
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({k: v[:split] for k, v in rows.items()}),
        "validation": datasets.Dataset.from_dict({k: v[split:] for k, v in rows.items()}),
    })
    dd.save_to_disk(str(tmp_path / "corpus"))
    params = dataclasses.replace(tiny_params, splice_episodes=1.0, max_steps=2, max_seq_len=4096)
    result = train(corpus_dir=tmp_path / "corpus", out_dir=tmp_path / "m", params=params, progress=False)
    plain = train(corpus_dir=tmp_path / "corpus", out_dir=tmp_path / "p",
                  params=dataclasses.replace(params, splice_episodes=0.0), progress=False)
    n = sum(parse_steps(c) is not None for c in chats[:split])
    assert plain.n_splice_episodes == 0 and result.n_splice_episodes == n > 0
    assert result.n_train_episodes == plain.n_train_episodes + n
    assert result.detail()["n_splice_episodes"] == n
