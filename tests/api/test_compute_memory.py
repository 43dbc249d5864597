"""Issue 16: the compute process runs under an address-space cap; a step over it fails alone, naming the setting."""

from __future__ import annotations

import resource

import pytest

from api.compute import ComputeProcess
from api.settings import Settings
from extractor.errors import InternalError


@pytest.mark.issue(16)
def test_compute_process_memory_cap_fails_one_step_and_names_the_setting(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data", service={"compute_max_memory_mb": 1024})
    process = ComputeProcess.from_settings(settings)
    try:
        soft, _ = process._submit("probe", resource.getrlimit, resource.RLIMIT_AS)
        assert soft == 1024 * 2**20
        with pytest.raises(InternalError, match="1024 MiB memory limit") as info:
            process._submit("index", bytearray, 2 * 2**30)  # 2 GiB in one piece, over the cap
        assert "VBP_SERVICE__COMPUTE_MAX_MEMORY_MB" in info.value.hint
        assert process._submit("probe", len, "still alive") == 11  # the child survived: no restart, no model reload
    finally:
        process.close()


def test_compute_process_memory_cap_default_is_above_the_measured_need() -> None:
    assert Settings().service.compute_max_memory_mb >= 2900 + 1024
