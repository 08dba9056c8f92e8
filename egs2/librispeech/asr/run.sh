#!/usr/bin/env bash
# LibriSpeech ASR on entropy-compressed HuBERT units: HuBERT Base layer 9, K=500,
# unit LM, calibration to 25/15/8 segments/s; dense baseline and entropy models with an
# E-Branchformer encoder (conf/tuning/ has a Conformer variant). Meant for a GPU machine
# or a Slurm cluster:   cmd_backend=slurm ./run.sh --ngpu 1
set -euo pipefail
train_subset=100

./asr.sh \
    --local_data_opts "--train_subset ${train_subset}" \
    --train_set "train_${train_subset}" \
    --valid_set dev_clean \
    --test_sets "test_clean test_other dev_other" \
    --nj 16 \
    --inference_nj 16 \
    --feature hubert \
    --feature_conf "checkpoint=torchaudio:HUBERT_BASE layer=9" \
    --n_clusters 500 \
    --km_max_frames 1000000 \
    --target_rates "25 15 8" \
    --asr_exps "dense entropy_rate25 entropy_rate15 entropy_rate8" \
    --nbpe 5000 \
    --ngpu 1 \
    "$@"
