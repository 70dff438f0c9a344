"""The CPU dtype: bfloat16 by default only where the CPU computes it natively, float32 otherwise or when asked,
and a memory check that names the precision that fits this machine.

Detection is a pure function of the CPU's feature flags, so it is tested on the flag sets of real processors
(Sapphire Rapids, Zen 4, this AVX2-only EPYC, Graviton 3, Apple M1/M2) without needing them.
"""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.cli import main
from artimuse_desktop.errors import ModelUnavailableError
from artimuse_desktop.scoring.artimuse import devices

from .conftest import FIXTURE_DIR

# The first CPU's flags line of /proc/cpuinfo on this AMD EPYC (AVX2, no AVX512 at all).
EPYC_AVX2 = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 "
    "ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl pni pclmulqdq ssse3 fma cx16 "
    "sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor bmi1 avx2 smep bmi2 erms sha_ni vaes "
    "vpclmulqdq rdpid fsrm\nbugs\t\t: sysret_ss_attrs\n\nprocessor\t: 1\nflags\t\t: fpu avx512_bf16\n"
)
ZEN4 = "flags\t\t: fpu sse avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 vaes\n"
SAPPHIRE_RAPIDS = "flags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8\n"
AMX_ONLY = "flags\t\t: fpu avx2 avx512f amx_tile amx_bf16\n"
ICE_LAKE = "flags\t\t: fpu avx2 avx512f avx512bw avx512_vnni avx512_vbmi2\n"
GRAVITON3 = "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd evtstrm aes sha3 sve asimdfhm bf16 i8mm\n"
GRAVITON2 = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp\n"


@pytest.mark.parametrize(
    ("cpuinfo", "machine", "capability", "native"),
    [
        (EPYC_AVX2, "x86_64", "AVX2", False),
        (ZEN4, "x86_64", "AVX512", True),
        (SAPPHIRE_RAPIDS, "x86_64", "AVX512", True),
        (AMX_ONLY, "x86_64", "AVX512", True),
        (ICE_LAKE, "x86_64", "AVX512", False),  # AVX512 without its BF16 instructions: emulated
        (ZEN4, "x86_64", "AVX2", False),  # torch held to AVX2 (ATEN_CPU_CAPABILITY): its kernels would emulate
        (ZEN4, "AMD64", None, True),  # capability unknown: the flags decide
        (GRAVITON3, "aarch64", "SVE256", True),
        (GRAVITON2, "aarch64", "DEFAULT", False),
        ("", "x86_64", "AVX512", False),  # no cpuinfo: float32, the safe choice
    ],
)
def test_native_bf16_from_the_cpu_flags(cpuinfo: str, machine: str, capability: str | None, native: bool) -> None:
    assert devices.native_bf16(devices.parse_cpuinfo_flags(cpuinfo), machine, capability) is native


def test_flags_are_read_from_the_first_cpu_and_macos_names_count() -> None:
    flags = devices.parse_cpuinfo_flags(EPYC_AVX2)
    assert "avx2" in flags and "avx512_bf16" not in flags  # the second CPU's line is not read
    assert devices.native_bf16({"FEAT_BF16"}, "arm64") is True  # Apple M2 and later (sysctl)
    assert devices.native_bf16(set(), "arm64") is False  # Apple M1
    assert devices.native_bf16({"avx512_bf16"}, "riscv64") is False


def test_a_cpu_without_bf16_flags_defaults_to_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real detection, on this machine's own /proc/cpuinfo (the AVX2-only EPYC: float32)."""
    pytest.importorskip("torch")
    monkeypatch.delenv(devices.CPU_BF16_ENV, raising=False)
    if devices.native_bf16(devices.cpu_flags(), platform.machine()):
        pytest.skip("this CPU computes bfloat16 natively")
    assert devices.cpu_native_bf16() is False
    assert devices.default_dtype_name("cpu") == "float32"


def test_the_default_cpu_dtype_follows_native_support(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(devices.CPU_BF16_ENV, "1")
    assert devices.default_dtype_name("cpu") == "bfloat16"
    monkeypatch.setenv(devices.CPU_BF16_ENV, "0")
    assert devices.default_dtype_name("cpu") == "float32"


PARAMS_8B = 7_940_000_000


@pytest.mark.parametrize(
    ("free_gb", "native", "hint"),
    [
        (22, False, "bfloat16 (about 18 GB) fits: pass --dtype bfloat16 (emulated on this CPU: slower than float32)"),
        (22, True, "bfloat16 (about 18 GB) fits: pass --dtype bfloat16"),
        (12, False, "8-bit (about 11 GB) fits: pass --quantize 8bit"),
        (7, False, "4-bit (about 6 GB) fits: pass --quantize 4bit"),
        (3, False, "even 4-bit (about 6 GB) does not fit: close other programs, or use a machine with more memory"),
    ],
)
def test_the_memory_check_names_the_option_that_fits(
    monkeypatch: pytest.MonkeyPatch, free_gb: int, native: bool, hint: str
) -> None:
    monkeypatch.setenv(devices.CPU_BF16_ENV, "1" if native else "0")
    with pytest.raises(ModelUnavailableError) as info:
        devices.check_memory(PARAMS_8B, "cpu", "float32", free=free_gb * 10**9)
    assert info.value.message == f"the model needs about 36 GB in float32 but this machine has {free_gb} GB free"
    assert info.value.hint == hint


def test_the_memory_check_passes_what_fits_and_advises_per_device() -> None:
    devices.check_memory(PARAMS_8B, "cpu", "bfloat16", free=19 * 10**9)  # about 18 GB: fits
    devices.check_memory(PARAMS_8B, "cpu", "4bit", free=7 * 10**9)
    with pytest.raises(ModelUnavailableError) as info:
        devices.check_memory(PARAMS_8B, "mps", "bfloat16", free=12 * 10**9)
    assert info.value.message == "the model needs about 18 GB in bfloat16 but mps has 12 GB free"
    assert info.value.hint == "even bfloat16 (about 18 GB) does not fit: try --device cpu"
    assert (
        devices.memory_advice(PARAMS_8B, "cuda:0", "8bit", 7 * 10**9) == "4-bit (about 6 GB) fits: pass --quantize 4bit"
    )
    assert devices.memory_advice(PARAMS_8B, "cuda:0", "4bit", 1 * 10**9) is None


# ---------------------------------------------------------------------------------------- through the app


@pytest.mark.model
def test_loading_on_cpu_picks_the_dtype_and_float32_when_asked(
    use_tiny_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Native bf16 (forced here): the default is bfloat16; float32 when asked."""
    torch = pytest.importorskip("torch")
    from artimuse_desktop.scoring.artimuse import model, store

    entry = store.get_model("tiny")
    monkeypatch.setenv(devices.CPU_BF16_ENV, "1")
    loaded = model.load_model(entry, "cpu")
    try:
        assert loaded.compute_dtype == torch.bfloat16
    finally:
        model.release(loaded)
    loaded = model.load_model(entry, "cpu", dtype="float32")
    try:
        assert loaded.compute_dtype == torch.float32
    finally:
        model.release(loaded)


@pytest.mark.model
def test_dtype_option_on_the_command_line(
    use_tiny_store: Path, expected: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``score --dtype bfloat16`` scores within 1.5 points of the float32 reference; ``--dtype`` on a model
    without a choice of precision is refused, naming the option."""
    library = tmp_path / "shoot"
    shutil.copytree(FIXTURE_DIR / "images", library)
    base = ["--catalog", str(tmp_path / "catalog.sqlite")]
    assert main([*base, "index", str(library)]) == 0
    assert main([*base, "score", "--model", "artimuse", "--use", "--dtype", "bfloat16"]) == 0
    capsys.readouterr()
    assert main([*base, "list", "--format", "json"]) == 0
    listed = {Path(row["path"]).name: row["score"] for row in json.loads(capsys.readouterr().out)}
    drift = [abs(listed[Path(n).name] - ref["score"]) for n, ref in expected["images"].items()]
    assert max(drift) <= 1.5, drift
    assert main([*base, "score", "--model", "technical", "--dtype", "float32"]) == 2
    err = capsys.readouterr().err
    assert "no choice of precision" in err and "--dtype" in err


def test_attention_on_a_cpu_is_the_reference_codes_unless_quantised() -> None:
    """float32 and bf16 on a CPU keep eager attention (the reference numbers); quantised models take the fused
    kernel, and GPUs always do."""
    from artimuse_desktop.scoring.artimuse.model import default_attention

    assert default_attention("cpu", "float32", None) == "eager"
    assert default_attention("cpu", "bfloat16", None) == "eager"
    assert default_attention("cpu", "float32", "8bit") == "sdpa"  # a quantised model's activations are float32
    assert default_attention("cpu", "float32", "4bit") == "sdpa"
    assert default_attention("cuda", "float32", None) == "sdpa"
