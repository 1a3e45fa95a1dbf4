"""Tiny Qwen2.5-VL checkpoints for tests: random, and one taught in-process to answer in JSON."""

from __future__ import annotations

from pathlib import Path

ANSWER = '{"score": 2, "justification": "The photo is too dark and the background is cluttered."}'


def teach(src: Path, dst: Path, image, system: str, user: str, steps: int = 200) -> list[float]:
    """Fine-tune the tiny model to give ANSWER for this photo and prompt; returns the loss per step."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    from phototips.scoring.qwen_model import QwenEngine
    from phototips.study.finetune import training_batch

    from phototips.config import Settings

    # The same visual tokens as the scorer will see with the default settings.
    engine = QwenEngine.from_dir(src, "cpu", Settings.qwen_min_pixels, Settings.qwen_max_pixels)
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(src, dtype=torch.float32).train()
    batch = training_batch(engine, _job(image, system, user), ANSWER)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        model.model.rope_deltas = None
        loss = model(**batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval().save_pretrained(dst)
    for f in src.iterdir():
        if f.name not in ("model.safetensors", "config.json", "generation_config.json"):
            (dst / f.name).write_bytes(f.read_bytes())
    return losses


def _job(image, system, user):
    from phototips.scoring.qwen_model import Job

    return Job(image, system, user)
