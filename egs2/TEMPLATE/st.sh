#!/usr/bin/env bash
# Shared staged script: discrete-unit speech translation with entropy-compressed units.
# The stages are asr.sh's (units, unit LM and calibration from units.sh; target BPE,
# training, decoding, scoring, results, packing, upload), run with --task st: the
# target text data/<set>/text is the translation, the scores are sacreBLEU's BLEU and
# chrF on the detokenised cased output, and the configs are conf/st.yaml and
# conf/decode_st.yaml (CTC off: a translation is not monotonic in its source).
# Every option of asr.sh and units.sh can be given; experiments go to
# <expdir>/st_<tag> unless --asr_exp_prefix says otherwise.
set -euo pipefail
exec "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/asr.sh" --task st "$@"
