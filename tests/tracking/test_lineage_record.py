"""Trajectory lineage holds content digests only: no git rev, host, clock or path (issue 20)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from termcorpus.curate.samples import make_trajectory
from termcorpus.records import Lineage, Trajectory


def test_lineage_has_only_content_digests():
    assert set(Lineage.model_fields) == {"task_digest", "seeds_digest"}
    line = make_trajectory("t1").model_dump_json()
    assert "git_rev" not in line and "dirty" not in line


def test_old_records_with_git_rev_still_read_but_never_write_it():
    old = make_trajectory("t1").model_dump()
    old["lineage"]["git_rev"] = "abc123-dirty"
    back = Trajectory.model_validate(old)
    assert "git_rev" not in back.model_dump_json()
    with pytest.raises(ValidationError):  # any other unknown field is still refused
        Lineage.model_validate({"task_digest": "d", "hostname": "vm"})
