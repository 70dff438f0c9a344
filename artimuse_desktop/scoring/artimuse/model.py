"""Loading an installed ArtiMuse model with transformers' native ``InternVLForConditionalGeneration``.

No remote code, safetensors only, local files only. On a CPU bfloat16 where it computes bf16 natively, else
float32 (``--dtype float32`` always: it reproduces the authors' numbers); bfloat16 (or float16 where bf16 is
unsupported) on GPUs; optional 8/4-bit. ``devices`` chooses the device and dtype and refuses, with advice
naming the option that fits, a model that would not fit. Also here: the input-building step shared by the
scorer and the critique (prompt ids, left padding, image features spliced into the ``<IMG_CONTEXT>``
embeddings).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artimuse_desktop.errors import ModelError, ModelUnavailableError
from artimuse_desktop.scoring.artimuse import prompts, store
from artimuse_desktop.scoring.artimuse.devices import (
    check_memory,
    cpu_native_bf16,
    default_dtype_name,
    detect_device,
    oom_guard,
    release_cache,
)

log = logging.getLogger(__name__)

QUANTIZE_CHOICES: tuple[str, ...] = ("8bit", "4bit")
DTYPE_CHOICES: tuple[str, ...] = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class ModelSpec:
    """Prompt settings and token ids recorded in the model's ``artimuse.json`` at conversion."""

    num_image_token: int
    image_size: int
    image_token_id: int
    eos_token_id: int
    aesthetic_token_ids: tuple[int, ...]
    dropped_token_ids: tuple[int, ...]
    system_message: str

    @classmethod
    def from_sidecar(cls, data: dict[str, Any]) -> ModelSpec:
        ids = tuple(int(i) for i in data["aesthetic_token_ids"])
        if len(ids) != len(prompts.AESTHETIC_TOKENS):
            raise ModelError(f"artimuse.json: expected 101 aesthetic token ids, found {len(ids)}")
        system_message = data.get("system_message")
        return cls(
            num_image_token=int(data["num_image_token"]),
            image_size=int(data.get("image_size", 448)),
            image_token_id=int(data["image_token_id"]),
            eos_token_id=int(data["eos_token_id"]),
            aesthetic_token_ids=ids,
            dropped_token_ids=tuple(int(i) for i in data.get("dropped_token_ids", ())),
            system_message=system_message if isinstance(system_message, str) else prompts.SYSTEM_MESSAGE,
        )


@dataclass
class LoadedModel:
    """A model ready to run, with its tokenizer and spec. One per backend; guarded by ``lock``."""

    model: Any
    tokenizer: Any
    spec: ModelSpec
    device: str
    dtype: Any
    folder: Path
    quantize: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def encode(self, text: str) -> tuple[int, ...]:
        """Plain ``tokenizer(text)`` ids (added tokens matched literally, no BOS), cached per prompt."""
        ids = self._ids.get(text)
        if ids is None:
            ids = tuple(int(i) for i in self.tokenizer(text, add_special_tokens=False)["input_ids"])
            count = sum(1 for i in ids if i == self.spec.image_token_id)
            if count != self.spec.num_image_token:
                raise ModelError(f"prompt has {count} image tokens, the model expects {self.spec.num_image_token}")
            self._ids[text] = ids
        return ids

    def image_features(self, pixel_values: Any) -> Any:
        """Vision tower + pixel shuffle + projector: ``[N, num_image_token, hidden]`` for ``[N, 3, H, W]``."""
        import torch

        with torch.inference_mode():
            pixel_values = pixel_values.to(self.device, dtype=self.compute_dtype)
            output = self.model.get_image_features(pixel_values=pixel_values, return_dict=True)
            # transformers >= 5.x returns the vision output with the projected features as pooler_output
            return output if isinstance(output, torch.Tensor) else output.pooler_output

    @property
    def compute_dtype(self) -> Any:
        """The dtype inputs enter the model in (not the embedding's: a CPU-quantised one stores bf16)."""
        return self.dtype

    def build_inputs(
        self, texts: Sequence[str], image_features: Any, row_images: Sequence[int]
    ) -> tuple[Any, Any, Any]:
        """Left-padded batch: (inputs_embeds, attention_mask, position_ids) for prompts ``texts``.

        Row ``r`` gets the features of image ``row_images[r]`` in place of its ``<IMG_CONTEXT>`` embeddings,
        as the authors' model does; position ids count only real tokens, so a padded row sees exactly the
        positions it would see alone.
        """
        import torch

        rows = [self.encode(text) for text in texts]
        length = max(len(r) for r in rows)
        pad = self.spec.eos_token_id
        input_ids = torch.full((len(rows), length), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for r, ids in enumerate(rows):
            input_ids[r, length - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[r, length - len(ids) :] = 1
        input_ids = input_ids.to(self.device)
        mask = mask.to(self.device)
        with torch.inference_mode():
            embeds = self.model.get_input_embeddings()(input_ids)
            features = image_features[torch.as_tensor(list(row_images), device=image_features.device)]
            features = features.to(embeds.device, embeds.dtype).reshape(-1, embeds.shape[-1])
            selected = (input_ids == self.spec.image_token_id) & (mask == 1)
            embeds[selected] = features
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        return embeds, mask, position_ids


# ------------------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------------------


def load_model(
    entry: store.ModelEntry,
    device: str = "auto",
    dtype: str | None = None,
    quantize: str | None = None,
    attn_implementation: str | None = None,
    check_free_memory: bool = True,
) -> LoadedModel:
    """Load an installed model; ``dtype`` (None or ``auto``: per device), ``quantize`` ``8bit``/``4bit``/None."""
    import importlib.util

    import torch

    problem = store.check_installed(entry)
    if problem:
        raise ModelUnavailableError(
            f"model {entry.name!r} is incomplete: {problem}",
            hint=f"remove it and add it again: `artimuse-desktop models remove {entry.name}`",
        )
    _check_files(entry)
    spec = ModelSpec.from_sidecar(store.read_sidecar(entry))
    device = detect_device(device)
    dtype_name = dtype if dtype not in (None, "auto") else default_dtype_name(device)
    if dtype_name not in DTYPE_CHOICES:
        raise ModelError(f"unknown dtype {dtype_name!r}; use one of {', '.join(DTYPE_CHOICES)}")
    if device == "cpu" and dtype_name == "bfloat16" and not cpu_native_bf16():
        log.warning("bfloat16 is emulated on this CPU (no AVX512-BF16 or AMX): slower than float32")
    if quantize is not None:
        if quantize not in QUANTIZE_CHOICES:
            raise ModelError(f"unknown quantization {quantize!r}; use one of {', '.join(QUANTIZE_CHOICES)}")
        missing = [p for p in ("bitsandbytes", "accelerate") if importlib.util.find_spec(p) is None]
        if device == "cpu":  # torch's own int8/int4 CPU kernels, float32 activations (cpu_quantize)
            from artimuse_desktop.scoring.artimuse import cpu_quantize

            cpu_quantize.check_supported(quantize)
            dtype_name = "float32"
        elif missing:
            raise ModelUnavailableError(
                f"--quantize {quantize} needs the package(s) {', '.join(missing)}",
                hint="pip install 'artimuse-desktop[quantize]' accelerate",
            )
        elif not device.startswith("cuda"):
            raise ModelUnavailableError(f"--quantize {quantize} needs a CUDA GPU or the CPU (device is {device})")
        elif dtype_name == "float32":
            dtype_name = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if check_free_memory and entry.num_parameters:
        check_memory(entry.num_parameters, device, quantize or dtype_name)

    from transformers import AutoTokenizer, InternVLForConditionalGeneration
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # our own progress reporting; keep stderr readable
    torch_dtype = getattr(torch, dtype_name)
    attn = attn_implementation or default_attention(device, dtype_name, quantize)
    kwargs: dict[str, Any] = {
        "dtype": torch_dtype,
        "attn_implementation": attn,
        "use_safetensors": True,
        "local_files_only": True,
        "trust_remote_code": False,
    }
    if quantize is not None and device != "cpu":
        from transformers import BitsAndBytesConfig

        keep = ["vision_tower", "multi_modal_projector", "lm_head"]
        kwargs["quantization_config"] = (
            BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=keep)
            if quantize == "8bit"
            else BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_compute_dtype=torch_dtype,
                llm_int8_skip_modules=keep,
            )
        )
    if device != "cpu" and importlib.util.find_spec("accelerate") is not None:
        kwargs["device_map"] = {"": device}  # straight onto the GPU, no full copy in host RAM first
    log.info(
        "loading %s on %s (%s%s, %s attention)",
        entry.name,
        device,
        dtype_name,
        f", {quantize}" if quantize else "",
        attn,
    )
    with oom_guard(device, f"loading model {entry.name!r}"):
        try:
            if quantize is not None and device == "cpu":
                from artimuse_desktop.scoring.artimuse.cpu_quantize import load_quantized

                model: Any = load_quantized(entry.path, quantize, attn, weights_sha256=entry.checksum or None)
                info: dict[str, Any] = {}
            else:
                loaded_pair: Any = InternVLForConditionalGeneration.from_pretrained(
                    str(entry.path), output_loading_info=True, **kwargs
                )
                model = loaded_pair[0]
                info = loaded_pair[1]
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailableError(
                f"model {entry.name!r} could not be loaded from {entry.path}: {exc}",
                hint=f"remove it and add it again: `artimuse-desktop models remove {entry.name}`",
            ) from exc
        # transformers fills missing weights with random values and only warns: refuse instead.
        problems = {k: sorted(v) for k, v in info.items() if k != "error_msgs" and v}
        if problems or info.get("error_msgs"):
            raise ModelUnavailableError(
                f"model {entry.name!r} in {entry.path} does not match its config: "
                + "; ".join(f"{k}: {', '.join(map(str, v[:3]))}" for k, v in problems.items())
                + "; ".join(map(str, info.get("error_msgs") or [])),
                hint=f"remove it and add it again: `artimuse-desktop models remove {entry.name}`",
            )
        if "device_map" not in kwargs and device != "cpu":
            model = model.to(device)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(entry.path), trust_remote_code=False, local_files_only=True)
    loaded = LoadedModel(
        model=model,
        tokenizer=tokenizer,
        spec=spec,
        device=device,
        dtype=torch_dtype,
        folder=entry.path,
        quantize=quantize,
    )
    _check_tokenizer(loaded)
    return loaded


def default_attention(device: str, dtype_name: str, quantize: str | None) -> str:
    """On a CPU, ``eager`` (the reference code's attention: float32 scores stay within 3e-5 of it, and in bf16
    it runs on the CPU's bf16 units as fast as the fused kernel) unless the model is quantised: its float32
    activations made eager attention over the vision tower's 1,025 positions a third of an 8-bit score, and
    the fused ``sdpa`` kernel makes that score 1.3x faster. ``sdpa`` on GPUs."""
    del dtype_name  # the same choice for float32 and bfloat16 (measured on the 8B shape: 8.5 s and 8.7 s)
    return "eager" if device == "cpu" and quantize is None else "sdpa"


def _check_files(entry: store.ModelEntry) -> None:
    """The installed config and weight headers pass the checks of ``models add`` again (a file may have been
    edited or replaced since): nothing is allocated for a config or header that does not."""
    from artimuse_desktop.scoring.artimuse.convert.checkpoint_files import find_weight_files, read_json
    from artimuse_desktop.scoring.artimuse.convert.checks import CheckpointError, check_config
    from artimuse_desktop.scoring.artimuse.convert.safetensors_io import read_tensors

    config_path = entry.path / "config.json"
    try:
        check_config(read_json(config_path), config_path)
        read_tensors(find_weight_files(entry.path))
    except CheckpointError as exc:
        raise CheckpointError(
            exc.message, hint=f"remove the model and add it again: `artimuse-desktop models remove {entry.name}`"
        ) from exc


def _check_tokenizer(loaded: LoadedModel) -> None:
    """The ids recorded at conversion must be the tokenizer's: a mismatch would silently score garbage."""
    tok = loaded.tokenizer
    for token, expected in (
        (prompts.IMG_CONTEXT_TOKEN, loaded.spec.image_token_id),
        (prompts.IM_END, loaded.spec.eos_token_id),
    ):
        if tok.convert_tokens_to_ids(token) != expected:
            raise ModelError(f"{loaded.folder}: tokenizer id of {token} differs from artimuse.json")
    ids = tok.convert_tokens_to_ids(list(prompts.AESTHETIC_TOKENS))
    if tuple(ids) != loaded.spec.aesthetic_token_ids:
        raise ModelError(f"{loaded.folder}: tokenizer ids of the score tokens differ from artimuse.json")


def release(loaded: LoadedModel | None) -> None:
    """Free the model's memory (the GUI switches models without restarting)."""
    if loaded is None:
        return
    import gc

    device = loaded.device
    loaded.model = None
    gc.collect()
    with contextlib.suppress(Exception):
        release_cache(device)
