"""The hardware helper: bf16 detection from CPU flags, the dtype ``auto`` picks, usable cores, threads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from raft_transformers import choose_dtype, configure_threads, cpu_bf16_flag, hardware

from raft_core.errors import RaftError

CPUINFO = "processor\t: {n}\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 {extra}\n\n"


def cpuinfo(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO.format(n=0, extra=extra) + CPUINFO.format(n=1, extra=extra))
    return path


def test_bf16_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    assert cpu_bf16_flag(cpuinfo(tmp_path, "avx512f avx512_bf16 amx_tile amx_bf16")) == "amx_bf16"
    assert cpu_bf16_flag(cpuinfo(tmp_path, "avx512f avx512_bf16")) == "avx512_bf16"
    assert cpu_bf16_flag(cpuinfo(tmp_path, "avx512f")) is None
    assert cpu_bf16_flag(tmp_path / "missing") is None


def test_auto_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(hardware, "cpu_bf16_flag", lambda: "amx_bf16")
    dtype, reason = choose_dtype("auto")
    assert dtype == "bfloat16" and "amx_bf16" in reason
    monkeypatch.setattr(hardware, "cpu_bf16_flag", lambda: None)
    dtype, reason = choose_dtype("auto")
    assert dtype == "float32" and "emulated" in reason


def test_this_machine_gets_what_its_flags_say() -> None:
    dtype, _ = choose_dtype("auto", "cpu")
    assert dtype == ("bfloat16" if cpu_bf16_flag() else "float32")


def test_bf16_without_hardware_is_kept_with_one_warning_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(hardware, "cpu_bf16_flag", lambda: None)
    assert choose_dtype("bfloat16")[0] == "bfloat16"
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "bfloat16 was asked for" in warning[0] and "avx512_bf16" in warning[0]
    assert choose_dtype("float32") == ("float32", choose_dtype("float32")[1])
    with pytest.raises(RaftError, match="unknown dtype 'fp8'"):
        choose_dtype("fp8")


def test_configure_threads_uses_the_usable_cores_unless_omp_says(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    monkeypatch.setattr(hardware, "usable_cores", lambda: 1)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("RAYON_NUM_THREADS", raising=False)
    try:
        torch.set_num_threads(2)
        assert configure_threads() == 1 and torch.get_num_threads() == 1
        assert hardware.os.environ["RAYON_NUM_THREADS"] == "1"
        torch.set_num_threads(2)
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert configure_threads() == 2
    finally:
        torch.set_num_threads(before)
