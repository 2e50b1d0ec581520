"""Composable skill blocks, one module per domain (see :mod:`.base` for the artifact model).

``BLOCKS`` maps a block name to its :class:`~.base.Block`; a skill's ``block:`` key in
``data/skills/*.yaml`` names one of them (or describes a YAML-only block, see docs/SKILLS.md).
"""

from __future__ import annotations

from termcorpus.generate.blocks import (
    data_processing, data_querying, data_science, debugging, dependency_management, file_operations,
    scientific_computing, security, software_engineering,
)
from termcorpus.generate.blocks.base import Block

_MODULES = (data_processing, data_querying, data_science, debugging, dependency_management, file_operations,
            scientific_computing, security, software_engineering)

BLOCKS: dict[str, Block] = {b.name: b for m in _MODULES for b in m.BLOCKS}
# domain of each Python block (the module it lives in)
BLOCK_DOMAINS: dict[str, str] = {b.name: m.__name__.rsplit(".", 1)[-1] for m in _MODULES for b in m.BLOCKS}
