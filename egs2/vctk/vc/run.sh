#!/usr/bin/env bash
# VCTK any-to-any voice conversion from HuBERT Base layer 9 units (K=500, the
# LibriSpeech recipe's), a unit LM calibrated to 25/15/8 segments/s, Resemblyzer
# d-vectors, and the unit-to-mel model with every input: dense 50 Hz, dedup, entropy
# segments at 25/15/8 per second and fixed pooling at the same rates (2, 3.333, 6.25
# units per token). Targets: three held-out speakers (p360 p361 p362). Meant for a GPU
# machine or a Slurm cluster:   cmd_backend=slurm ./run.sh --ngpu 1
set -euo pipefail

./vc.sh \
    --train_set train \
    --valid_set dev \
    --test_sets "parallel" \
    --parallel_set parallel \
    --dvector_sets "heldout" \
    --target_dvector_set heldout \
    --nj 16 \
    --feature hubert \
    --feature_conf "checkpoint=torchaudio:HUBERT_BASE layer=9" \
    --n_clusters 500 \
    --km_max_frames 1000000 \
    --target_rates "25 15 8" \
    --vc_exps "dense dedup entropy_rate25 entropy_rate15 entropy_rate8 fixed_pool2 fixed_pool3.333 fixed_pool6.25" \
    --train_jobs 1 \
    --dnsmos_mode full \
    --ngpu 1 \
    "$@"
