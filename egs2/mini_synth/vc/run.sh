#!/usr/bin/env bash
# mini_synth VC: any-to-any voice conversion on a synthetic VCTK-layout corpus (16
# espeak-ng voices, 3 held out as targets). Units from block 3 of Whisper tiny.en's 4
# encoder blocks (k-means K=500; block 3 predicts the mel better and sharper in time
# than the last block, see README.md; with another --feature give --feature_conf ""
# too), a small unit LM, Resemblyzer d-vectors, and the unit-to-mel
# model with the dense 50 Hz input against the entropy-compressed input at 15
# segments/s (the first release's entropy_rate15 and the ASR benchmark's best
# variants: min2max5, segments of two to five units, and min3max4, the recipe default,
# fixed pooling's lengths with the LM choosing three or four units) and fixed pooling at
# the same rate, converted with WORLD (log-mel models: Griffin-Lim) and scored
# on 40 of the pairs (Whisper and pocketsphinx WER, speaker cosine, MCD-DTW, DNSMOS
# fast mode). About 30 minutes on 2 CPU cores (README.md).
# Any option of ../../TEMPLATE/vc.sh or units.sh can be given, e.g. the full set:
#   ./run.sh --target_rates "25 15 8" --vc_exps "dense dedup entropy_rate25 entropy_rate15 entropy_rate8 fixed_pool2 fixed_pool3.333 fixed_pool6.25"
set -euo pipefail

./vc.sh \
    --train_set train \
    --valid_set dev \
    --test_sets "parallel" \
    --parallel_set parallel \
    --dvector_sets "heldout" \
    --target_dvector_set heldout \
    --nj 2 \
    --feature whisper \
    --feature_conf "layer=3" \
    --n_clusters 500 \
    --km_max_frames 100000 \
    --km_args "--n_init 1 --max_iter 20" \
    --target_rates "15" \
    --entropy_variants "min2max5 min3max4" \
    --vc_exps "dense entropy_rate15 entropy_min2max5_rate15 entropy_min3max4_rate15 fixed_pool3.333" \
    --eval_max_pairs 40 \
    --train_jobs 2 \
    --train_threads 1 \
    "$@"
