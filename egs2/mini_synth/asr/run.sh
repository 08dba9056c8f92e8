#!/usr/bin/env bash
# mini_synth ASR: the embedded default recipe. A synthetic espeak-ng corpus (LibriSpeech
# layout), MFCC units, a small unit LM, and the dense 50 Hz baseline against the
# entropy-compressed model, trained on the same data with the same budget. Sized to run
# end to end on 2 CPU cores. Any option of ../../TEMPLATE/asr.sh or units.sh can be
# given, e.g.  ./run.sh --stage 9 --asr_exps "entropy_rate15"
set -euo pipefail

./asr.sh \
    --train_set train \
    --valid_set dev \
    --test_sets "test test_unseen_voices" \
    --nj 2 \
    --feature mfcc \
    --n_clusters 200 \
    --km_max_frames 300000 \
    --target_rates "15" \
    --asr_exps "dense entropy_rate15" \
    --nbpe 300 \
    "$@"
