"""Every Accelerate set-up the repo ships loads with Accelerate's own config reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file
from accelerate.utils import DistributedType

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "accelerate"

EXPECTED = {
    "cpu_ddp_2proc.yaml": (DistributedType.MULTI_GPU, 2),  # torchrun launcher; see the file's comment
    "single_gpu.yaml": (DistributedType.NO, 1),
    "multi_gpu_ddp.yaml": (DistributedType.MULTI_GPU, 2),
    "fsdp.yaml": (DistributedType.FSDP, 2),
}


def test_the_expected_configs_are_shipped():
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_loads(name):
    cfg = load_config_from_file(str(CONFIGS / name))
    assert isinstance(cfg, ClusterConfig)
    kind, nproc = EXPECTED[name]
    assert cfg.distributed_type == kind and cfg.num_processes == nproc
    assert cfg.mixed_precision == "bf16"


def test_fsdp_wraps_qwen3_layers():
    cfg = load_config_from_file(str(CONFIGS / "fsdp.yaml"))
    assert cfg.fsdp_config["fsdp_version"] == 2
    assert cfg.fsdp_config["fsdp_transformer_layer_cls_to_wrap"] == "Qwen3DecoderLayer"
    from transformers.models.qwen3 import modeling_qwen3

    assert hasattr(modeling_qwen3, "Qwen3DecoderLayer")
