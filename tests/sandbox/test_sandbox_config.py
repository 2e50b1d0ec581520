"""SandboxConfig from params, with one-line errors for what is not supported."""

import pytest

from termcorpus.errors import ConfigError
from termcorpus.params import ExecuteParams
from termcorpus.sandbox import SandboxConfig


def test_from_params_copies_limits():
    cfg = SandboxConfig.from_params(ExecuteParams(timeout_sec=3.5, memory_mb=700, max_procs=99, max_output_bytes=4000))
    assert (cfg.backend, cfg.timeout_sec, cfg.memory_mb, cfg.max_procs, cfg.max_output_bytes) == (
        "bwrap", 3.5, 700, 99, 4000)


def test_unknown_backend_is_a_config_error_not_a_crash():
    with pytest.raises(ConfigError, match="execute.sandbox"):
        SandboxConfig.from_params(ExecuteParams(sandbox="kvm"))


def test_docker_backend_is_accepted():
    assert SandboxConfig.from_params(ExecuteParams(sandbox="docker")).backend == "docker"
