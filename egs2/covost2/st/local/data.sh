#!/usr/bin/env bash
# CoVoST 2 data preparation: Kaldi-style ST data dirs (wav.scp of the 48 kHz MP3 clips,
# which the units stages decode and resample to 16 kHz; text = the translation;
# text.tc.<src>, text.tc.<tgt>) from Common Voice v4 and the CoVoST 2 tsv of the pair.
# train = CoVoST's train + train_covost. Nothing is downloaded here: get Common Voice v4
# (the <src> language) and covost_v2.<src>_<tgt>.tsv, and point db.sh at them.
set -euo pipefail
src_lang=en
tgt_lang=de
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [--src_lang en --tgt_lang de | --src_lang fr --tgt_lang en ...]"
. utils/parse_options.sh
. utils/log.sh
. ./db.sh
repo=$(cd "$(dirname "$(readlink -f utils)")/../.." && pwd)  # utils -> <repo>/egs2/TEMPLATE/utils
cv_root=${COMMONVOICE}/${src_lang}
tsv=${COVOST2}/covost_v2.${src_lang}_${tgt_lang}.tsv
[ -f "${cv_root}/validated.tsv" ] || die "Common Voice (${src_lang}) not found: ${cv_root}/validated.tsv (set COMMONVOICE in db.sh)"
[ -f "${tsv}" ] || die "CoVoST 2 translations not found: ${tsv} (set COVOST2 in db.sh)"

# one set of data dirs per language pair: data/{train,dev,test}_<src>_<tgt>
tmp=data/.prep_${src_lang}_${tgt_lang}
rm -rf "${tmp}"
${python} "${repo}/local/data_prep_covost2.py" --cv_root "${cv_root}" --covost_tsv "${tsv}" \
    --src_lang "${src_lang}" --tgt_lang "${tgt_lang}" --out "${tmp}" --splits train dev test
sets=""
for split in train dev test; do
    d=data/${split}_${src_lang}_${tgt_lang}
    rm -rf "${d}"
    mv "${tmp}/${split}" "${d}"
    ${python} "${repo}/local/validate_data_dir.py" "${d}"
    sets+="${d#data/}=$(wc -l < "${d}/wav.scp") "
done
rm -rf "${tmp}"
log "data dirs ready: ${sets}"
