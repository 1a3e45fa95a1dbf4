"""Build a tiny, randomly initialised Qwen2.5-VL checkpoint offline, in the standard layout.

It has the real classes (Qwen2_5_VLForConditionalGeneration, a byte-level BPE
tokenizer split like Qwen2's, Qwen's image processor config), so the loading,
batching and scoring code runs on it exactly as on the real 7B weights — only
its answers are random. Used by the tests, the demo study and the CPU benchmark.

    python -m phototips.scoring.qwen_tiny DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Qwen2's pre-tokenizer: digits are single tokens, so "1".."5" are one token each.
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
              r"\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
           "<|image_pad|>", "<|video_pad|>"]


def _corpus() -> list[str]:
    from .prompts import load_prompts

    texts = [p.system + " " + p.render(item)[1] for p in load_prompts().values() for item in ("bag", "sofa", "clothes")]
    texts += [f'{{"score": {k}, "justification": "The photo is well lit, sharp and the background is clean."}}'
              for k in range(1, 6)]
    texts += ["system user assistant", "The image is dark, blurry, cluttered, tilted or cut off."]
    return texts * 4


def build_tiny_qwen(out: str | Path, *, seed: int = 0, hidden: int = 64, layers: int = 2) -> Path:
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        padding_side="left")
    tokenizer.save_pretrained(out)

    ids = {t: tok.token_to_id(t) for t in SPECIAL}
    heads = 4
    half_head = hidden // heads // 2
    t = half_head // 4
    mrope = [t, (half_head - t) // 2, half_head - t - (half_head - t) // 2]
    config = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=hidden * 2,
            num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=2,
            max_position_embeddings=4096, tie_word_embeddings=True,
            # Multimodal RoPE splits each head's rotary half over time, height and width.
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope},
            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
        ),
        vision_config=dict(depth=2, hidden_size=32, num_heads=2, intermediate_size=64, out_hidden_size=hidden,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                           fullatt_block_indexes=[1]),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    model.save_pretrained(out)
    Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=28 * 28 * 64).save_pretrained(out)
    (out / "phototips_tiny.json").write_text(json.dumps({"note": "random weights, for tests only", "seed": seed}))
    return out


if __name__ == "__main__":
    print(build_tiny_qwen(sys.argv[1] if len(sys.argv) > 1 else "var/tiny-qwen"))
