"""train.name_codec: names become numbered placeholders the model copies, and come back exactly."""

from __future__ import annotations

import json

import pytest

from termcorpus.errors import DataError
from termcorpus.train.data import Chat, encode_names
from termcorpus.train.names import CODEC_FILE, N_PLACEHOLDERS, PLACEHOLDERS, NameCodec, load_codec, words


def _chat(instruction: str, reply: str, slots: tuple[str, ...]) -> Chat:
    return Chat(messages=(("user", instruction), ("assistant", reply)), slot_values=slots)


def _codec() -> NameCodec:
    # 'report' is a slot value in 3 of the 4 instructions that mention it: a name. 'lines' is one
    # in 1 of 4: vocabulary. 'grep' is never one.
    chats = [
        _chat("grep the lines of report.txt", '{"keystrokes": "grep x report.txt\\n"}', ("report",)),
        _chat("count lines of report.log", '{"keystrokes": "wc -l report.log\\n"}', ("report",)),
        _chat("copy report.csv to lines.csv", '{"keystrokes": "cp report.csv lines.csv\\n"}', ("report", "lines")),
        _chat("grep lines of report.md in report", '{"keystrokes": "grep lines report.md\\n"}', ()),
    ]
    return NameCodec.learn(chats)


def test_learn_tells_names_from_vocabulary_by_their_share_as_slot_values():
    codec = _codec()
    assert "report" not in codec.vocabulary
    assert {"grep", "lines", "txt", "keystrokes", "wc", "l"} <= codec.vocabulary
    # An escape is never part of a word: '\n' + 'report' does not make 'nreport'.
    assert list(words('"ls\\nreport\\t"')) == ["ls", "report"]


def test_encode_numbers_names_by_first_appearance_and_decode_is_lossless():
    codec = _codec()
    chat = [
        {"role": "user", "content": "grep the lines of zorbix.txt to quell_7.out"},
        {"role": "assistant", "content": '{"keystrokes": "grep lines zorbix.txt > quell_7.out\\n"}'},
        {"role": "user", "content": "zorbix.txt: 3 lines"},
    ]
    coded, mapping = codec.encode_messages(chat)
    assert mapping == {"zorbix": "<n0>", "quell_7": "<n1>", "out": "<n2>", "3": "<n3>"}
    assert coded[0]["content"] == "grep the lines of <n0>.txt to <n1>.<n2>"
    assert coded[1]["content"] == '{"keystrokes": "grep lines <n0>.txt > <n1>.<n2>\\n"}'
    assert [codec.decode(c["content"], mapping) for c in coded] == [c["content"] for c in chat]
    # The mapping of a prefix is the prefix of the mapping: a name keeps its number all episode.
    assert codec.encode_messages(chat[:1])[1] == {"zorbix": "<n0>", "quell_7": "<n1>", "out": "<n2>"}
    # A placeholder the chat never bound stays as it is.
    assert codec.decode("cat <n9>", mapping) == "cat <n9>"


def test_more_names_than_placeholders_keeps_the_rest_spelled_out():
    codec = NameCodec(frozenset({"touch"}))
    names = [f"zz{i}q" for i in range(N_PLACEHOLDERS + 5)]
    text = "touch " + " ".join(names)
    coded, mapping = codec.encode_messages([{"role": "user", "content": text}])
    assert len(mapping) == N_PLACEHOLDERS
    assert coded[0]["content"].endswith(" ".join(names[N_PLACEHOLDERS:]))
    assert codec.decode(coded[0]["content"], mapping) == text


def test_encode_names_maps_slot_values_with_the_chat_mapping():
    codec = _codec()
    (out,) = encode_names([_chat("grep the lines of zorbix.txt", "grep x zorbix.txt", ("zorbix", "zorbix.txt"))], codec)
    assert out.messages == (("user", "grep the lines of <n0>.txt"), ("assistant", "grep x <n0>.txt"))
    assert out.slot_values == ("<n0>", "<n0>.txt")


def test_codec_saves_and_loads_and_a_broken_file_is_named(tmp_path):
    codec = _codec()
    assert load_codec(tmp_path) is None
    codec.save(tmp_path)
    assert load_codec(tmp_path) == codec
    (tmp_path / CODEC_FILE).write_text(json.dumps({"placeholders": N_PLACEHOLDERS, "vocabulary": [1, 2]}))
    with pytest.raises(DataError, match=f"{CODEC_FILE}.*vocabulary"):
        load_codec(tmp_path)
    (tmp_path / CODEC_FILE).write_text("{not json")
    with pytest.raises(DataError, match=CODEC_FILE):
        load_codec(tmp_path)


def test_placeholders_are_whole_tokens_never_merged_with_their_neighbours():
    from termcorpus.train.tokenizer import train_tokenizer

    texts = [f"cat <n{i % 5}>.txt > <n{(i + 1) % 5}>.log and cat data.txt" for i in range(200)]
    tok = train_tokenizer(texts, [[] for _ in texts], 300, extra_tokens=PLACEHOLDERS)
    assert len(tok) == tok.vocab_size + N_PLACEHOLDERS  # on top of the learnt vocabulary
    ids = tok("cat <n3>.txt", add_special_tokens=False)["input_ids"]
    pieces = tok.convert_ids_to_tokens(ids)
    assert "<n3>" in pieces
    assert tok.decode(ids) == "cat <n3>.txt"
    # No learnt merge holds a piece of a placeholder.
    assert not [t for t in tok.get_vocab() if t not in PLACEHOLDERS and ("<n" in t or "n3>" in t)]


def test_training_saves_the_codec_and_the_agent_maps_names_back(small_corpus, tiny_params, tmp_path):
    from termcorpus.agents.model import HFModelAgent
    from termcorpus.train.loop import train

    train(corpus_dir=small_corpus, out_dir=tmp_path / "m", params=tiny_params, progress=False)
    codec = load_codec(tmp_path / "m")
    assert codec is not None and "mkdir" in codec.vocabulary and "grep" in codec.vocabulary
    agent = HFModelAgent(tmp_path / "m", max_new_tokens=8)
    assert agent.codec == codec
    chat = [{"role": "user", "content": "Task: Count the lines of qwertzuio.log and write the number into yxcvb.txt."}]
    prompt = agent.render(chat)
    assert "qwertzuio" not in prompt and "<n0>.log" in prompt and "<n1>.txt" in prompt
    # The agent decodes every reply with the chat's mapping (a placeholder comes back as the name).
    assert codec.decode("wc -l <n0>.log > <n1>.txt", agent._coded(chat)[1]) == "wc -l qwertzuio.log > yxcvb.txt"

    off = tiny_params.__class__(**{**tiny_params.__dict__, "name_codec": False})
    train(corpus_dir=small_corpus, out_dir=tmp_path / "plain", params=off, progress=False)
    assert load_codec(tmp_path / "plain") is None
    assert HFModelAgent(tmp_path / "plain", max_new_tokens=8).codec is None
