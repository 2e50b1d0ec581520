"""Named value pools for template slots: the words, names and numbers that make variants differ.

A seed's slot says ``{pool: noun}``; :func:`draw` picks one value with the variant's
``random.Random``. Simple pools are word lists written for this project; composite pools
(``stem``, ``func``, ``key``, ``host``, ``ip``, ``version`` ...) combine them, so one template yields
thousands of distinct names. Every value is a plain token (lowercase letters, digits, ``_``, ``-``
or ``.``), so it can be pasted into a shell command unquoted and sorts the same in every locale
where noted (``noun``, ``dir`` and ``user`` are lowercase letters only).
"""

from __future__ import annotations

import random
from typing import Callable

NOUNS: tuple[str, ...] = tuple(
    """
    apple anchor arrow badge basket beacon berry binder blade blossom board bottle branch brick
    bridge bucket button cabin cable camera candle canvas carpet castle cedar chair chalk cherry
    circle cloud clover comet copper coral cotton crane crystal curtain cushion dagger desert
    diamond dinner dolphin dragon drum eagle ember engine falcon feather fence fiber flame
    forest fossil fountain garden garnet glacier glove granite grape harbor hammer harvest helmet
    heron hollow honey island ivory jacket jungle kettle kitten ladder lagoon lantern lemon letter
    lizard locket magnet mango maple marble meadow mirror mitten monkey mountain needle nest
    night oasis ocean olive onion orbit otter paddle palace panda paper parrot pebble pepper
    pigeon pillow pine planet plum pocket pony powder prism pumpkin puzzle quartz quill rabbit
    radar raven ribbon river robin rocket saddle salmon sand scarf shadow shell signal silver
    socket spider spoon spring stamp star stone storm sugar summit sunset swan table tiger
    timber torch tower trail tulip tunnel turtle valley velvet violet wagon walnut whale willow
    window winter wizard wolf yarn zebra acorn bamboo beetle cactus canyon cobalt compass
    dune ferry galaxy geyser hazel iris jasmine kiwi lotus meteor nickel nutmeg oyster pearl
    pepper quiver saffron sapphire thistle thunder tundra umbrella vapor walrus zephyr
    """.split()
)
# de-duplicate while keeping order (a word typed twice above must not be drawn twice as often)
NOUNS = tuple(dict.fromkeys(NOUNS))

ADJECTIVES: tuple[str, ...] = tuple(
    """
    amber ancient azure bold brave bright brisk calm clever cold cosmic crimson crisp curly
    dark daring deep dusty eager early electric emerald fancy fast fierce final gentle giant
    golden grand green happy hidden hollow humble icy jolly keen kind lazy little lively lone
    lucky lunar magic mellow mighty misty modern noble pale plain polar proud quick quiet
    rapid rare red rough royal rusty shiny silent silver simple sleek slow small smooth snowy
    solar solid spare steady sunny swift tidy tiny urban vivid warm wild windy young
    """.split()
)

VERBS: tuple[str, ...] = tuple(
    """
    add apply build check clean compute convert count create decode encode export fetch filter
    find format get handle init load merge parse print process read render reset resolve save
    scan send sort split store sum update validate write collect compare extract normalize
    """.split()
)

DIRS: tuple[str, ...] = tuple(
    """
    archive assets backup backups build cache configs data docs downloads drafts exports
    incoming inbox input logs media notes old outbox output outgoing photos projects public
    queue raw records releases reports results samples scratch shared snapshots sources spool
    staging storage temp uploads vault work workspace
    """.split()
)

COLUMNS: tuple[str, ...] = tuple(
    """
    amount price qty score age weight height total count duration cost rating speed level
    points balance salary distance volume revenue profit votes visits clicks views size
    length width depth budget tax fee units stock hours minutes load usage errors latency
    """.split()
)

CATEGORIES: tuple[str, ...] = tuple(
    """
    north south east west red blue green yellow alpha beta gamma delta books games music tools
    food toys garden sports paris tokyo lima oslo cairo delhi berlin rome madrid dublin
    """.split()
)

USERS: tuple[str, ...] = tuple(
    """
    alice bob carol dave erin frank grace heidi ivan judy karl laura mallory nina oscar peggy
    quinn rupert sybil trent ursula victor wendy xena yusuf zoe adam bella chris diana ethan
    fiona george hannah isaac jack kevin lily mason nora owen paula rachel sam tina umar
    vera will yara zack amir boris clara dmitri elena felix gina hugo ines jonas kira leo
    maya nils olga pablo rosa sven tara uma vlad wanda
    """.split()
)

PACKAGES: tuple[str, ...] = tuple(
    """
    requests numpy pandas flask django pyyaml click jinja2 attrs pytest rich tqdm pillow scipy
    sqlalchemy httpx pydantic boto3 redis celery lxml markdown pygments six idna certifi
    urllib3 chardet colorama psutil tabulate toml wheel setuptools packaging filelock
    platformdirs cryptography paramiko docutils sphinx black isort mypy coverage tox nose
    simplejson ujson orjson arrow pendulum pytz tzdata regex sympy networkx matplotlib seaborn
    """.split()
)

EXTS: tuple[str, ...] = ("txt", "log", "csv", "md", "json", "py", "cfg", "dat", "ini", "xml", "yaml", "bak", "tmp", "out")

SHELLS: tuple[str, ...] = ("/bin/bash", "/bin/sh", "/usr/sbin/nologin", "/bin/zsh", "/bin/false")


_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def made_up_word(rng: random.Random) -> str:
    """A pronounceable word that is in no list: 2-3 consonant-vowel syllables (``tavoki``).

    Why: names drawn only from word lists let a small model learn the words and complete a
    name into a familiar one instead of copying it from the instruction (FACTS.md: 9% success
    on unseen names). Made-up words can only be copied, so they teach copying.
    """
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) + (rng.choice("lnrs") if rng.random() < 0.25 else "")
                   for _ in range(rng.randint(2, 3)))


def fresh_name(rng: random.Random) -> str:
    """A made-up word of four syllables (``tavokimu``), or two of them joined by ``_``.

    Why: train-time renaming (``train.fresh_names``) must not draw the names of evaluation tasks,
    or the "names never seen in training" set would see them in training. Every syllable has one
    vowel and :func:`made_up_word` makes 2-3 syllables, so no pool above can produce a name with
    a four-syllable word in it (``tests/generate/test_pools_fresh.py`` checks this on draws).
    """
    word = _four_syllables(rng)
    if rng.random() < 0.3:
        word += "_" + _four_syllables(rng)
    return word


def _four_syllables(rng: random.Random) -> str:
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(4))


def _stem(rng: random.Random) -> str:
    # adjective_noun, noun + number, a few bare nouns, and ~40% made-up words (tens of
    # thousands of stems in all).
    r = rng.random()
    if r < 0.30:
        return made_up_word(rng)
    if r < 0.40:
        return f"{made_up_word(rng)}_{rng.choice(NOUNS)}"
    if r < 0.70:
        return f"{rng.choice(ADJECTIVES)}_{rng.choice(NOUNS)}"
    if r < 0.76:
        return rng.choice(NOUNS)
    return f"{rng.choice(NOUNS)}{rng.randint(1, 99)}"


def _dir(rng: random.Random) -> str:
    # Mostly the usual directory names, a third made-up ones (same reason as _stem).
    return made_up_word(rng) if rng.random() < 0.35 else rng.choice(DIRS)


_KEY_SUFFIXES = ("size", "limit", "mode", "name", "path", "port", "level", "count", "timeout", "url")


def _list(values: tuple[str, ...]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(values)


POOLS: dict[str, Callable[[random.Random], str]] = {
    "noun": _list(NOUNS),
    "adj": _list(ADJECTIVES),
    "verb": _list(VERBS),
    "word": lambda rng: rng.choice(NOUNS if rng.random() < 0.7 else ADJECTIVES),
    "dir": _dir,
    "column": _list(COLUMNS),
    "category": _list(CATEGORIES),
    "user": _list(USERS),
    "package": _list(PACKAGES),
    "ext": _list(EXTS),
    "shell": _list(SHELLS),
    "stem": _stem,
    "func": lambda rng: f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}",
    "key": lambda rng: f"{rng.choice(NOUNS)}_{rng.choice(_KEY_SUFFIXES)}",
    # always suffixed: a bare noun could shadow a standard-library module (signal, socket)
    "module": lambda rng: f"{rng.choice(NOUNS)}{rng.choice(('lib', 'kit', 'utils', 'tools', 'core', 'ops'))}",
    "host": lambda rng: f"{rng.choice(NOUNS)}-{rng.randint(1, 99):02d}",
    "ip": lambda rng: f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    "version": lambda rng: f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}",
}


def draw(pool: str, rng: random.Random) -> str:
    """One value from the named pool (the caller checks the name at seed-load time)."""
    return POOLS[pool](rng)
