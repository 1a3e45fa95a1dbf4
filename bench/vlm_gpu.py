"""Benchmark: qwen-local throughput and latency, both modes, batch sizes 1–64, on phone photos.

    .venv/bin/python bench/vlm_gpu.py                       # real weights if present, else random 7B
    .venv/bin/python bench/vlm_gpu.py --model /models/Qwen2.5-VL-7B-Instruct
    .venv/bin/python bench/vlm_gpu.py --tiny --device cpu --batch-sizes 1,2   # smoke test anywhere

With no weights on the machine it builds the full-size Qwen2.5-VL-7B
architecture with random bf16 weights directly on the GPU: the compute per
photo is the same as the real model's; only the answers are meaningless (so in
generate mode every answer runs to --max-new-tokens, the worst case).
Inputs: 4032×3024 phone-sized JPEGs decoded the service's way, then resized by
Qwen's image processor within the configured min/max pixels. For each mode and
batch size it reports images/s and the p50/p95 latency of a batch (what each
photo in that batch waits); batch size 1 is the single-photo latency.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from phototips.config import Settings
from phototips.imaging.decode import decode_photo
from phototips.scoring.prompts import get_prompt
from phototips.scoring.qwen_model import Job, QwenEngine, load_image_processor, resolve_model_dir
from phototips.scoring.qwen_tiny import build_tiny_qwen

SOURCES = ("coffee", "astronaut", "chelsea", "rocket")

# Qwen2.5-VL-7B-Instruct's published architecture.
QWEN_7B_TEXT = dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                    num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=128000,
                    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
                    tie_word_embeddings=False)
QWEN_7B_VISION = dict(depth=32, hidden_size=1280, num_heads=16, intermediate_size=3420, out_hidden_size=3584,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                      fullatt_block_indexes=[7, 15, 23, 31])


def phone_photos(n: int):
    from skimage import data

    out = []
    for i in range(n):
        img = Image.fromarray(getattr(data, SOURCES[i % len(SOURCES)])()).resize((4032, 3024))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(decode_photo(buf.getvalue(), max_pixels=60_000_000, analysis_side=1000).pil)
    return out


def random_7b_engine(device: str, min_pixels: int, max_pixels: int) -> QwenEngine:
    import torch
    from transformers import AutoTokenizer, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    # The tiny checkpoint lends its tokenizer and image-processor config; token ids fit the 7B vocabulary.
    tiny = build_tiny_qwen(Path(tempfile.mkdtemp()) / "tok")
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in
           ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|endoftext|>", "<|im_end|>")}
    config = Qwen2_5_VLConfig(
        text_config={**QWEN_7B_TEXT, "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<|endoftext|>"]},
        vision_config=QWEN_7B_VISION, image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=torch.bfloat16).eval()
    return QwenEngine(model, tokenizer, load_image_processor(tiny, min_pixels, max_pixels), device,
                      "random-Qwen2.5-VL-7B")


def run(engine: QwenEngine, mode: str, jobs: list[Job], batch: int, repeats: int, max_new_tokens: int) -> dict:
    sync = engine.torch.cuda.synchronize if engine.device.startswith("cuda") else (lambda: None)

    def once(chunk):
        sync()
        t = time.perf_counter()
        if mode == "expected":
            engine.expected_scores(chunk)
        else:
            engine.generate(chunk, max_new_tokens)
        sync()
        return time.perf_counter() - t

    chunks = [[jobs[(i * batch + k) % len(jobs)] for k in range(batch)] for i in range(repeats)]
    once(chunks[0])  # warm-up: kernels, allocator
    times = [once(c) for c in chunks]
    return {"mode": mode, "batch": batch, "images_per_s": round(batch * len(times) / sum(times), 2),
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(float(np.percentile(times, 95)) * 1000, 1), "batches": len(times)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=Settings.qwen_model, help="checkpoint dir or hub id (HF cache only)")
    ap.add_argument("--tiny", action="store_true", help="use a tiny random checkpoint (smoke test)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--modes", default="expected,generate")
    ap.add_argument("--batch-sizes", default="1,2,4,8,16,32,64")
    ap.add_argument("--repeats", type=int, default=5, help="timed batches per point")
    ap.add_argument("--photos", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--min-pixels", type=int, default=Settings.qwen_min_pixels)
    ap.add_argument("--max-pixels", type=int, default=Settings.qwen_max_pixels)
    ap.add_argument("--out", default="bench/out/vlm_gpu.json")
    args = ap.parse_args()

    import torch

    if args.tiny:
        path = build_tiny_qwen(Path(tempfile.mkdtemp()) / "tiny")
        engine = QwenEngine.from_dir(path, args.device, args.min_pixels, args.max_pixels)
        weights = "tiny random (smoke test)"
    else:
        try:
            engine = QwenEngine.from_dir(resolve_model_dir(args.model), args.device, args.min_pixels, args.max_pixels)
            weights = f"real: {args.model}"
        except Exception as exc:  # no weights here: same architecture, random weights
            if not args.device.startswith("cuda"):
                print(f"no weights ({exc}); a random 7B needs a GPU — use --tiny on CPU", file=sys.stderr)
                return 2
            engine = random_7b_engine(args.device, args.min_pixels, args.max_pixels)
            weights = "random, full-size Qwen2.5-VL-7B architecture"

    system, user = get_prompt("guided").render("item")
    jobs = [Job(img, system, user) for img in phone_photos(args.photos)]
    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else platform.processor() or "cpu"
    rows = []
    for mode in args.modes.split(","):
        for b in (int(x) for x in args.batch_sizes.split(",")):
            try:
                rows.append(run(engine, mode, jobs, b, args.repeats, args.max_new_tokens))
            except torch.OutOfMemoryError:
                rows.append({"mode": mode, "batch": b, "error": "out of memory"})
                torch.cuda.empty_cache()
            print(json.dumps(rows[-1]), flush=True)
    result = {"device": device, "weights": weights, "dtype": str(engine.dtype), "torch": torch.__version__,
              "visual_tokens_max": args.max_pixels // (28 * 28), "max_new_tokens": args.max_new_tokens, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print("| mode | batch | images/s | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['batch']} | {r.get('images_per_s', '—')} | {r.get('p50_ms', r.get('error'))} | {r.get('p95_ms', '')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
