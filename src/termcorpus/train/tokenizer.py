"""A small byte-level BPE tokenizer learned from the corpus, with names kept out of its vocabulary.

Why names are blanked: a tiny model cannot learn to copy a file name from the instruction into a
command when the whole name is one vocabulary entry it has seen in a single context (FACTS.md:
held-out success 1-2%). Learning the merges from the chats with every slot value removed leaves
names to be spelled out of common pieces, which the model can copy piece by piece (76-90%).
Digits are split one by one for the same reason: numbers become sequences of ten symbols.

The result is a ``transformers`` fast tokenizer carrying the ChatML template of ``chat.py``, so
``save_pretrained`` writes everything ``transformers serve`` and the evaluation agent need.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from termcorpus.errors import ConfigError
from termcorpus.train.chat import CHAT_TEMPLATE, EOS, IM_END, IM_START, PAD, SPECIAL_TOKENS


def blank_slots(text: str, slot_values: Iterable[str]) -> str:
    """Remove every occurrence of every slot value from ``text`` (longest first).

    Longest first so that a value containing a shorter one (``report_2024`` / ``report``) goes
    whole. Values are removed, not replaced by a placeholder: a placeholder would itself become a
    frequent token glued to the surrounding punctuation.
    """
    values = sorted({v for v in slot_values if v and v.strip()}, key=lambda v: (-len(v), v))
    if not values:
        return text
    pattern = re.compile("|".join(re.escape(v) for v in values))
    return pattern.sub("", text)


# One pre-token per whitespace run, letter run, digit, or run of other symbols. A word never
# carries its leading space (GPT-2's ' name') and a quote never takes the next letter (GPT-2's
# "'s", "'d", "'t"...), so a name is the same token sequence after a space, a quote, a slash or a
# backtick, and copying it from the instruction into a command is copying tokens one for one.
# Each digit alone makes a number a sequence of ten symbols.
_PIECES = r"\s+|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+"
# Names how text becomes pre-tokens; part of the training run's identity (checkpoints.params_digest),
# so that a checkpoint trained with another recipe is not resumed with this one.
TOKENIZER_RECIPE = f"bytelevel-bpe|blank-slots|split:{_PIECES}"


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PIECES), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def train_tokenizer(
    texts: Sequence[str], slot_values: Sequence[Sequence[str]], vocab_size: int,
    extra_tokens: Sequence[str] = (),
) -> PreTrainedTokenizerFast:
    """Learn a byte-level BPE of ``vocab_size`` entries from rendered chats.

    ``slot_values[i]`` lists the names substituted into ``texts[i]``; they are blanked out of the
    training text only (every byte stays encodable, so names still tokenize, just in pieces).
    ``extra_tokens`` (the name placeholders of ``names.py``) are added whole after the merges,
    which never see them. The same texts, size and extra tokens give the same tokenizer.
    """
    if len(texts) != len(slot_values):
        raise ConfigError(f"train_tokenizer: {len(texts)} texts but {len(slot_values)} slot-value lists")
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    floor = len(alphabet) + len(SPECIAL_TOKENS)
    if vocab_size < floor:
        raise ConfigError(f"'train.vocab_size' must be >= {floor} (256 bytes + special tokens), got {vocab_size}")

    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = _pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=sorted(alphabet),
        show_progress=False,
    )
    # Special tokens are cut out before training so '<|im_start|>' never feeds merges like '<|'.
    special = re.compile("|".join(re.escape(s) for s in (*SPECIAL_TOKENS, *extra_tokens)))
    corpus = [special.sub("\n", blank_slots(t, s)) for t, s in zip(texts, slot_values)]
    tok.train_from_iterator(corpus, trainer=trainer, length=len(corpus))
    if extra_tokens:
        tok.add_tokens([AddedToken(t, normalized=False, single_word=False) for t in extra_tokens])

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=IM_END,
        pad_token=PAD,
        bos_token=None,
        unk_token=None,
        additional_special_tokens=[EOS, IM_START],
        chat_template=CHAT_TEMPLATE,
        model_max_length=1_000_000,
        clean_up_tokenization_spaces=False,
    )
