#!/usr/bin/env bash
# The study, end to end on SYNTHETIC data, with one command (CPU, a few minutes):
# synthetic rated photos → learned ONNX scorer trained on the training split (whole source scenes) → eval of the
# rule-based photo check, the learned scorer and a tiny random Qwen2.5-VL standing in
# for the real model, generic and guided prompts, on the test split (the other scenes) → report.
# Usage: scripts/study.sh [OUT_DIR]   (default var/study; the report is OUT_DIR/report/report.html)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh vlm,study
OUT=${1:-var/study}
PT=.venv/bin/phototips
$PT study synthetic --out "$OUT/data" --per-photo 60
.venv/bin/python -m phototips.scoring.qwen_tiny "$OUT/tiny-qwen" > /dev/null
$PT train learned --ratings "$OUT/data/ratings.csv" --out "$OUT/learned.onnx"
PHOTOTIPS_LEARNED_MODEL="$OUT/learned.onnx" PHOTOTIPS_QWEN_MODEL="$OUT/tiny-qwen" PHOTOTIPS_QWEN_DEVICE=cpu \
  $PT eval --ratings "$OUT/data/ratings.csv" --split test --scorers photo-check-rules,learned,qwen-local \
  --prompts generic,guided --out "$OUT/report"
