"""train.fresh_names: an episode renamed with fresh names, consistently and only where a name stands."""

import random

from termcorpus.train.data import Chat, rename_slots


def _chat() -> Chat:
    return Chat(
        messages=(
            ("user", "Save a copy of zudatal.json as zudatal.json.bak in reports/; keep 'zudatal_old' as is."),
            ("assistant", '{"commands": [{"keystrokes": "cp zudatal.json reports/zudatal.json.bak\\n"}]}'),
            ("user", "New terminal output:\n$ ls reports\nzudatal.json.bak"),
        ),
        slot_values=("zudatal", "reports", "json", "42"),
    )


def test_every_occurrence_of_a_name_gets_the_same_fresh_name():
    chat = _chat()
    renamed = rename_slots(chat, random.Random(3))
    new_stem, new_dir = renamed.slot_values[0], renamed.slot_values[1]
    assert new_stem != "zudatal" and new_dir != "reports"
    text = "\n".join(c for _, c in renamed.messages)
    assert "zudatal.json" not in text and "reports/" not in text
    assert text.count(f"{new_stem}.json") == 5  # 2 in the instruction, 2 in the command, 1 in the output
    assert text.count(f"{new_dir}/") == 2
    # whole words only: 'zudatal_old' is another name and is left alone
    assert "'zudatal_old'" in text
    # extensions and numbers keep their meaning
    assert renamed.slot_values[2:] == ("json", "42")
    assert [r for r, _ in renamed.messages] == [r for r, _ in chat.messages]


def test_renaming_is_a_pure_function_of_the_rng_and_leaves_nameless_chats_alone():
    chat = _chat()
    assert rename_slots(chat, random.Random(5)) == rename_slots(chat, random.Random(5))
    assert rename_slots(chat, random.Random(5)) != rename_slots(chat, random.Random(6))
    plain = Chat(messages=(("user", "List the files."), ("assistant", "ls")), slot_values=("txt",))
    assert rename_slots(plain, random.Random(1)) is plain
