"""Named data generators: the input files of a task, built from the variant's random stream.

A seed's file entry says ``gen: csv`` with ``args`` (templates rendered to strings first); the
generator gets the variant's ``random.Random``, the set of slot values to ``avoid`` as filler (so a
pattern the task asks about appears exactly as often as the generator promised), and its own
keyword arguments converted from strings according to the function's annotations (``int``,
``bool``, ``list`` = comma-separated, ``str``). It returns the file text, or a mapping
``relative path -> text`` for generators that build several files (joined under the entry's
``path``; ``"."`` means the task root).

Generators make the properties a test relies on hold by construction: an exact count of
matching lines, a unique maximum, distinct numeric values (so "the row with the largest x" has
one answer and numeric sorts have no ties). All text is ASCII. One module per domain (``text``,
``tables``, ``logs``, ``files``, ``deps``, ``software``, ``security``), the shared helpers in
``_common``, and the table of names with the argument conversion in ``registry``.
"""

from __future__ import annotations

from termcorpus.generate.datagen.deps import STDLIB_MODULES
from termcorpus.generate.datagen.registry import GENERATORS, generator_params, run_generator

__all__ = ["GENERATORS", "STDLIB_MODULES", "generator_params", "run_generator"]
