#!/usr/bin/env bash
# CoVoST 2 speech translation on entropy-compressed units. By default English -> German
# with HuBERT Base layer 9 units (K=500, the LibriSpeech recipe's); X -> English (fr,
# de, es) with multilingual HuBERT (mhubert_base_vp_en_es_fr_it3, layer 11, K=1000)
# given as a local checkpoint:
#   ./run.sh --src_lang fr --tgt_lang en --mhubert /path/mhubert_base_vp_en_es_fr_it3.pt
# Dense baseline and entropy models (25/15/8 segments/s) into an E-Branchformer encoder
# and Transformer decoder, target BPE; scored with sacreBLEU (cased, detokenised) and
# chrF as CoVoST 2 reports them. Meant for a GPU machine or a Slurm cluster:
#   cmd_backend=slurm ./run.sh --ngpu 1
set -euo pipefail
src_lang=en
tgt_lang=de
mhubert=""        # local mHuBERT checkpoint (fairseq); required when src_lang is not en
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --src_lang) src_lang=$2; shift 2 ;;
        --tgt_lang) tgt_lang=$2; shift 2 ;;
        --mhubert) mhubert=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done

if [ "${src_lang}" = en ]; then
    units=(--feature hubert --feature_conf "checkpoint=torchaudio:HUBERT_BASE layer=9" --n_clusters 500)
else
    if [ -z "${mhubert}" ]; then
        echo "$0: ${src_lang} -> ${tgt_lang} needs --mhubert /path/mhubert_base_vp_en_es_fr_it3.pt" >&2
        exit 1
    fi
    # a fairseq checkpoint stores its config as a pickle: trusted explicitly
    units=(--feature hubert --feature_conf "checkpoint=${mhubert} layer=11 trust_pickle=true" --n_clusters 1000)
fi

./st.sh \
    --local_data_opts "--src_lang ${src_lang} --tgt_lang ${tgt_lang}" \
    --dumpdir "dump_${src_lang}_${tgt_lang}" \
    --expdir "exp_${src_lang}_${tgt_lang}" \
    --train_set "train_${src_lang}_${tgt_lang}" \
    --valid_set "dev_${src_lang}_${tgt_lang}" \
    --test_sets "test_${src_lang}_${tgt_lang}" \
    --nj 16 \
    --inference_nj 16 \
    "${units[@]}" \
    --km_max_frames 1000000 \
    --target_rates "25 15 8" \
    --asr_exps "dense entropy_rate25 entropy_rate15 entropy_rate8" \
    --nbpe 8000 \
    --src_transcript "text.tc.${src_lang}" \
    --src_nbpe 5000 \
    --ngpu 1 \
    "${args[@]+"${args[@]}"}"
