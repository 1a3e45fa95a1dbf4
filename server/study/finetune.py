"""Fine-tuning for the study: LoRA on Qwen2.5-VL (peft), and the Bedrock customisation export for Nova Lite.

The training target is the answer the study's prompts ask for: {"score": the
human majority, "justification": the photo check's findings in words}.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..imaging.decode import decode_photo
from ..imaging.encode import jpeg_for_model
from ..scoring.prompts import get_prompt


def target_answer(rated, settings) -> str:
    from ..scoring.registry import create_scorer
    from ..scoring.result import ScoreRequest

    photo = decode_photo(rated.path.read_bytes(), max_pixels=settings.max_pixels, analysis_side=settings.analysis_side)
    why = create_scorer("photo-check-rules", settings).score(photo, ScoreRequest(locale="en")).justification
    return json.dumps({"score": rated.majority, "justification": why}, ensure_ascii=False)


def training_batch(engine, job, answer: str) -> dict:
    """Inputs for learning `answer` to `job`: the chat prompt and the answer, the loss on the answer only."""
    import torch

    prompt = engine._inputs([job], "")
    ids = engine.tokenizer(answer + "<|im_end|>", return_tensors="pt", add_special_tokens=False)["input_ids"]
    ids = ids.to(prompt["input_ids"].device)
    input_ids = torch.cat([prompt["input_ids"], ids], dim=1)
    labels = torch.cat([torch.full_like(prompt["input_ids"], -100), ids], dim=1)
    return {**prompt, "input_ids": input_ids, "attention_mask": torch.ones_like(input_ids),
            "mm_token_type_ids": (input_ids == engine.image_token_id).int(), "labels": labels}


def train_lora(rated, model_dir: str | Path, out: str | Path, settings, *, prompt: str = "guided", steps: int = 100,
               lr: float = 2e-4, rank: int = 8, device: str = "cpu", seed: int = 0) -> list[float]:
    """LoRA adapters on the language model's attention and MLP projections; returns the loss per step."""
    import torch
    from peft import LoraConfig, get_peft_model

    from ..scoring.qwen_model import QwenEngine, resolve_model_dir

    torch.manual_seed(seed)
    engine = QwenEngine.from_dir(resolve_model_dir(str(model_dir)), device, settings.qwen_min_pixels,
                                 settings.qwen_max_pixels)
    base = engine.model.float() if device == "cpu" else engine.model
    model = get_peft_model(base.train(), LoraConfig(
        r=rank, lora_alpha=2 * rank, lora_dropout=0.0,
        target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"))
    system, _ = get_prompt(prompt).render("item")
    from ..scoring.qwen_model import Job

    examples = []
    for r in rated:
        photo = decode_photo(r.path.read_bytes(), max_pixels=settings.max_pixels, analysis_side=settings.analysis_side)
        _, user = get_prompt(prompt).render(r.item_type)
        examples.append((Job(photo.pil, system, user), target_answer(r, settings)))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    losses = []
    for step in range(steps):
        batch = training_batch(engine, *examples[step % len(examples)])
        base.model.rope_deltas = None  # positions are recomputed for each new example
        loss = model(**batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.save_pretrained(out)
    return losses


def export_bedrock(rated, out: str | Path, s3_prefix: str, settings, *, prompt: str = "guided") -> Path:
    """bedrock-conversation-2024 JSONL for Nova Lite customisation, with the images to upload beside it.

    Upload OUT/images/ to S3_PREFIX/images/ (e.g. `aws s3 sync OUT/images S3_PREFIX/images`); each record
    refers to its image by that S3 URI.
    """
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    prefix = s3_prefix.rstrip("/")
    for r in rated:
        photo = decode_photo(r.path.read_bytes(), max_pixels=settings.max_pixels, analysis_side=settings.analysis_side)
        name = r.image.replace("/", "__").rsplit(".", 1)[0] + ".jpg"
        (out / "images" / name).write_bytes(jpeg_for_model(photo.pil))
        system, user = get_prompt(prompt).render(r.item_type)
        lines.append(json.dumps({
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": system}],
            "messages": [
                {"role": "user", "content": [
                    {"text": user},
                    {"image": {"format": "jpeg", "source": {"s3Location": {"uri": f"{prefix}/images/{name}"}}}},
                ]},
                {"role": "assistant", "content": [{"text": target_answer(r, settings)}]},
            ],
        }, ensure_ascii=False))
    path = out / "train.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
