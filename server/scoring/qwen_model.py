"""Load Qwen2.5-VL once per process and run it on batches of photos: expected score or generated answer.

Weights come from a local directory or the Hugging Face cache, never from the
network (`local_files_only`). The inputs are built here rather than by
`Qwen2_5_VLProcessor`, which insists on a video processor that needs
torchvision: the tokenizer, Qwen's image processor (PIL backend) and Qwen's
chat format give the same input ids, so the same code runs real and tiny models.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import PhotoTipsError

log = logging.getLogger(__name__)
IMAGE_PAD = "<|image_pad|>"
DIGITS = ("1", "2", "3", "4", "5")
# Q-Align style: the answer is opened for the model up to the score's first digit.
SCORE_PREFIX = '{"score": '

_engines: dict[tuple, "QwenEngine"] = {}
_engines_lock = threading.Lock()


def chat_text(system: str, user: str, answer_prefix: str = "") -> str:
    """Qwen2.5-VL's chat template for one image and one question, with the assistant turn opened."""
    return (f"<|im_start|>system\n{system}<|im_end|>\n"
            f"<|im_start|>user\n<|vision_start|>{IMAGE_PAD}<|vision_end|>{user}<|im_end|>\n"
            f"<|im_start|>assistant\n{answer_prefix}")


def resolve_model_dir(ref: str) -> Path:
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise PhotoTipsError("model_not_found", f"{path} has no config.json: not a model checkpoint", 503)
        return path
    if path.is_absolute() or ref.startswith("."):
        raise PhotoTipsError("model_not_found", f"Qwen weights not found: no directory {path}", 503)
    from huggingface_hub import snapshot_download
    from huggingface_hub.constants import HF_HUB_CACHE

    try:
        return Path(snapshot_download(repo_id=ref, local_files_only=True))
    except Exception:
        raise PhotoTipsError(
            "model_not_found",
            f"Qwen weights not found: {ref!r} is neither a local directory nor in the Hugging Face cache "
            f"({HF_HUB_CACHE}). Download them once where there is network (huggingface-cli download {ref}) "
            "or set PHOTOTIPS_QWEN_MODEL to a checkpoint directory.",
            503,
        ) from None


@dataclass
class Job:
    image: object  # PIL image
    system: str
    user: str


class QwenEngine:
    """One loaded model, tokenizer and image processor; calls are serialised by a lock."""

    def __init__(self, model, tokenizer, image_processor, device: str, name: str):
        import torch

        self.torch = torch
        self.model, self.tokenizer, self.images = model, tokenizer, image_processor
        self.device = device
        self.dtype = next(model.parameters()).dtype
        self.tokenizer.padding_side = "left"  # the last position is the next token for every row
        self.image_token_id = self.tokenizer.convert_tokens_to_ids(IMAGE_PAD)
        self.digit_ids = []
        for d in DIGITS:
            ids = self.tokenizer.encode(d, add_special_tokens=False)
            if len(ids) != 1:
                raise PhotoTipsError("bad_model", f"the tokenizer splits the digit {d!r}; expected-score mode needs one token", 503)
            self.digit_ids.append(ids[0])
        self.name = name
        # Its size as loaded, for the study's size-and-cost table: a checkpoint's directory name need not say it.
        self.params_b = sum(p.numel() for p in model.parameters()) / 1e9
        self.lock = threading.Lock()

    @classmethod
    def from_dir(cls, model_dir: Path, device: str, min_pixels: int, max_pixels: int,
                 adapter: str = "") -> "QwenEngine":
        import torch
        from transformers import AutoTokenizer, Qwen2_5_VLForConditionalGeneration

        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(model_dir, dtype=dtype, local_files_only=True)
        name = model_dir.name
        if adapter:
            from peft import PeftModel

            if not (Path(adapter) / "adapter_config.json").is_file():
                raise PhotoTipsError("model_not_found", f"no LoRA adapter in {adapter}", 503)
            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
            name += "+lora:" + Path(adapter).name
        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        return cls(model.to(device).eval(), tokenizer, load_image_processor(model_dir, min_pixels, max_pixels), device, name)

    def _inputs(self, jobs: list[Job], answer_prefix: str) -> dict:
        vision = self.images(images=[j.image for j in jobs], return_tensors="pt")
        merge = self.images.merge_size ** 2
        texts = []
        for job, thw in zip(jobs, vision["image_grid_thw"]):
            text = chat_text(job.system, job.user, answer_prefix)
            texts.append(text.replace(IMAGE_PAD, IMAGE_PAD * (int(thw.prod()) // merge), 1))
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = {**enc, "pixel_values": vision["pixel_values"].to(self.dtype), "image_grid_thw": vision["image_grid_thw"],
                 "mm_token_type_ids": (enc["input_ids"] == self.image_token_id).int()}
        return {k: v.to(self.device) for k, v in batch.items()}

    def expected_scores(self, jobs: list[Job]) -> list[dict]:
        """One forward pass: probabilities of "1".."5" after '{"score": ', score = Σ p·k."""
        torch = self.torch
        with self.lock, torch.inference_mode():
            batch = self._inputs(jobs, SCORE_PREFIX)
            logits = self.model(**batch, logits_to_keep=1).logits[:, -1, :].float()
            probs = torch.softmax(logits, dim=-1)[:, self.digit_ids]
            mass = probs.sum(dim=-1)
            probs = probs / mass.unsqueeze(-1)
            scores = (probs * torch.arange(1, 6, device=probs.device, dtype=probs.dtype)).sum(dim=-1)
        return [{"score": float(s), "probs": [round(float(x), 5) for x in p], "digit_mass": float(m),
                 "input_tokens": int(batch["attention_mask"][i].sum())}
                for i, (s, p, m) in enumerate(zip(scores, probs, mass))]

    def generate(self, jobs: list[Job], max_new_tokens: int) -> list[dict]:
        torch = self.torch
        with self.lock, torch.inference_mode():
            batch = self._inputs(jobs, "")
            out = self.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id)
        new = out[:, batch["input_ids"].shape[1]:]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        eos = self.tokenizer.eos_token_id
        return [{"text": t, "input_tokens": int(batch["attention_mask"][i].sum()),
                 "output_tokens": int(((new[i] != self.tokenizer.pad_token_id) & (new[i] != eos)).sum())}
                for i, t in enumerate(texts)]


def load_image_processor(model_dir: Path, min_pixels: int, max_pixels: int):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    return Qwen2VLImageProcessorPil.from_pretrained(
        model_dir, min_pixels=min_pixels, max_pixels=max_pixels, local_files_only=True)


def pick_device(setting: str) -> str:
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise PhotoTipsError("no_gpu", f"PHOTOTIPS_QWEN_DEVICE={setting} but no CUDA device is available", 503)
    return setting


def get_engine(model_ref: str, device: str, min_pixels: int, max_pixels: int, adapter: str = "") -> QwenEngine:
    """The process-wide engine for these settings, loaded on first use."""
    model_dir = resolve_model_dir(model_ref)
    key = (str(model_dir.resolve()), device, min_pixels, max_pixels, adapter)
    with _engines_lock:
        if key not in _engines:
            log.info("loading Qwen2.5-VL from %s on %s", model_dir, device)
            _engines[key] = QwenEngine.from_dir(model_dir, device, min_pixels, max_pixels, adapter)
        return _engines[key]


def is_oom(exc: BaseException) -> bool:
    try:
        import torch

        return isinstance(exc, torch.OutOfMemoryError)
    except ImportError:
        return False
