#!/usr/bin/env bash
# Shared staged script: discrete-unit ASR with entropy-compressed units, and, with
# --task st (what st.sh sets), speech translation: the same stages with the
# translation as the target text (data/<set>/text), BLEU and chrF instead of WER, and
# the task's own configs (conf/st.yaml, conf/decode_st.yaml) instead of ASR's.
#
#   stages 1-7: units.sh (data, features, k-means, unit dumps, token list, unit LM,
#               threshold calibration); options not listed here are passed on to it
#   stage 8:  BPE (sentencepiece) on the training transcripts, target token list; with a
#             dedup_bpe experiment also the dedup + BPE input (espnet2_ext.bin.prep_dedup_bpe),
#             with a transcript experiment the source words (espnet2_ext.bin.prep_transcript_input)
#   stage 9:  training of every experiment in --asr_exps (ESPnet's trainer through
#             espnet2_ext.bin.mt_train), --train_jobs at a time; the merged config is
#             saved in exp/asr_<tag>/
#             (a finished model is kept only while its config and inputs are unchanged:
#             train.stamp; otherwise the stage refuses until --force true)
#   stage 10: decoding of every test set (espnet2_ext.bin.mt_inference), nj shards; done
#             again when the model, the decoding config or the test units changed
#             (decode_<set>/decode.stamp)
#   stage 11: scoring (WER; ST: sacreBLEU BLEU and chrF) and encoder input rates
#   stage 12: the results block of the recipe's README.md, in ESPnet's RESULTS format
#             (espnet2_ext.bin.asr_results; the rest of README.md is kept)
#   stage 13: packing each model into a zip that espnet_model_zoo unpacks
#   stage 14: upload to a Hugging Face model repo (only with --hf_repo)
#
# Experiments (--asr_exps): dense | dense_conv2x | dedup | dedup_bpe | fixed_pool<N> |
# entropy_rate<R> | entropy_<variant>_rate<R> [...], each optionally with _seed<N>
# (trained with --seed N, e.g. dense_seed2), where <R> is one of --target_rates
# (calibrated in stage 7) and <N> a pool size in units (may be fractional: fixed_pool3.333 is 15/s);
# fixed_pool<N>_<variant> merges conf/frontend/fixed_pool_<variant>.yaml, oracle_<variant>
# is the oracle_pool frontend (a control: segments at given starts) with
# conf/frontend/oracle_pool_<variant>.yaml. dense_conv2x: dense with the
# encoder's 2x convolutional subsampling; dedup: consecutive repeats removed on the fly
# (frontend: dedup); dedup_bpe: sentencepiece (--dedup_nbpe) over deduplicated units,
# as ESPnet's discrete ASR recipes do; entropy_<variant>_rate<R>: the entropy frontend
# with conf/frontend/entropy_<variant>.yaml merged on top, calibrated in stage 7 with
# --entropy_variants "<variant> ..." (an option of units.sh). transcript (--task st with
# --src_transcript only): the upper bound of the comparison, the same model (dense
# frontend, no source CTC) reading the gold source transcript's words instead of units,
# i.e. a cascade with an error-free ASR; not packed (no audio front makes its input).
set -euo pipefail

stage=1
stop_stage=100
task=asr                   # asr | st (speech translation: data/<set>/text holds the
                           # translation; scored with BLEU and chrF; conf/st.yaml)
nj=2                       # parallel jobs for units and decoding
inference_nj=""            # default: nj
ngpu=0
python=python3
dumpdir=dump
expdir=exp
train_set=train
valid_set=dev
test_sets="test"
asr_exps="dense entropy_rate15"
asr_args=""                # extra args for espnet2_ext.bin.mt_train (e.g. --max_epoch 5)
asr_config_overrides=""    # space-separated key.sub=value applied to every experiment
asr_exp_overrides=""       # space-separated TAG:key.sub=value for one experiment (and its
                           # _seed<N> runs), e.g. "entropy_rate15:max_epoch=13"
nbpe=300
bpemode=unigram
src_transcript=""          # --task st: data/<set>/<file> with the source-language transcript
                           # (e.g. text.tc.en) for the auxiliary CTC of model discrete_st
                           # (conf/st.yaml: model_conf.src_ctc_weight); empty: none
src_nbpe=300               # sentencepiece size over the source transcript
dedup_nbpe=500             # sentencepiece size over deduplicated units (dedup_bpe)
dedup_bpemode=bpe
asr_conf_dirs=conf         # recipe config dirs merged over <repo>/conf, in order (later wins):
                           # <dir>/<task>.yaml, <dir>/frontend/<kind>.yaml, <dir>/decode_<task>.yaml
asr_exp_prefix=""          # experiment directories: <expdir>/<prefix>_<tag>; default: <task>
train_jobs=1               # experiments trained at the same time (stage 9)
train_threads=""           # torch threads per training job (OMP_NUM_THREADS); empty: default
decode_config=""           # default: <repo>/conf/decode_<task>.yaml + conf/decode_<task>.yaml
decode_args=""
transcript_decode_args="--maxlenratio 6.0"  # added for the transcript experiment: its input
                           # is words, and maxlenratio counts output tokens per encoder vector
                           # (conf/decode_st.yaml's 1.5 would cap a German translation in
                           # 300 BPE pieces, 3.1 per English word, at half its length)
decode_threads=1           # torch threads per decoding job
inference_model=valid.acc.ave.pth
hf_repo=""                 # e.g. user/mini_synth_asr (+ _<tag> per experiment); empty: no upload
force=false

# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [options]   (stage list at the top of $0; units options: see units.sh)"

cmdline="$0 $*"            # as given, for README.md's results
TEMPLATE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
REPO=$(cd "${TEMPLATE}/../.." && pwd)
# options of units.sh are forwarded: split_units_opts puts the ones we do not know in
# units_opts, the others in args (utils/exp.sh: also base_tag, tag_frontend, tag_sets,
# stamp_of, rotate_log, run_jobs)
. "${TEMPLATE}/utils/exp.sh"
units_opts=() args=()      # set by split_units_opts
split_units_opts "$@"
set -- "${args[@]+"${args[@]}"}"
. "${TEMPLATE}/utils/parse_options.sh"
. "${TEMPLATE}/utils/log.sh"
[ -f ./path.sh ] && . ./path.sh
[ -f ./cmd.sh ] && . ./cmd.sh
: "${train_cmd:=${TEMPLATE}/utils/launch.sh --backend local}"
: "${decode_cmd:=${train_cmd}}"
: "${cuda_cmd:=${train_cmd}}"
: "${inference_nj:=${nj}}"
case "${task}" in
    asr) metric=wer ;;
    st) metric=bleu ;;
    *) log "--task must be asr or st, got '${task}'"; exit 1 ;;
esac
[ -z "${src_transcript}" ] || [ "${task}" = st ] || { log "--src_transcript is for --task st"; exit 1; }
: "${asr_exp_prefix:=${task}}"

unitdir=${dumpdir}/units
src_token_list=${dumpdir}/token_list/units/tokens.txt
bpedir=${dumpdir}/token_list/bpe_${bpemode}${nbpe}
bpemodel=${bpedir}/bpe.model
tgt_token_list=${bpedir}/tokens.txt
src_bpedir=${dumpdir}/token_list/src_bpe_${bpemode}${src_nbpe}
src_bpemodel=${src_bpedir}/bpe.model
src_tr_token_list=${src_bpedir}/tokens.txt
all_sets="${train_set} ${valid_set} ${test_sets}"

dedup_bpe_unitdir=${dumpdir}/units_dedup_${dedup_bpemode}${dedup_nbpe}
dedup_bpe_token_list=${dumpdir}/token_list/units_dedup_${dedup_bpemode}${dedup_nbpe}/tokens.txt
transcript_unitdir=${dumpdir}/units_transcript
transcript_token_list=${dumpdir}/token_list/transcript/tokens.txt

# A tag may end in _seed<N> (utils/exp.sh: base_tag): the same experiment trained with
# ESPnet's --seed N (the benchmark's repeated runs); the rest is taken from the tag without it.
has_exp() { local t; for t in ${asr_exps}; do [ "$(base_tag "${t}")" = "$1" ] && return 0; done; return 1; }
if has_exp transcript && { [ "${task}" != st ] || [ -z "${src_transcript}" ]; }; then
    log "experiment transcript: needs --task st and --src_transcript (its input is that file's words)"; exit 1
fi

# config files of an experiment tag: shared default, then the recipe's override
exp_configs() {
    local tag kind variant calib_name
    tag=$(base_tag "$1")
    read -r kind calib_name variant < <(tag_frontend "${tag}")
    [ "${variant}" = - ] && variant=""
    case "${tag}" in dense_conv2x|dedup_bpe|transcript) kind=dense ;; esac
    if [ "${kind}" = - ]; then
        log "unknown experiment tag '${tag}' (dense | dense_conv2x | dedup | dedup_bpe | fixed_pool<N>[_<variant>] | oracle_<variant> | entropy_rate<R> | entropy_<variant>_rate<R> | transcript)"; return 1
    fi
    local f d
    local shared=("${REPO}/conf/asr.yaml")
    # ST's shared config holds only what differs from ASR's: both, in that order
    [ "${task}" = asr ] || shared+=("${REPO}/conf/${task}.yaml")
    for f in "${shared[@]}" $(for d in ${asr_conf_dirs}; do echo "${d}/${task}.yaml"; done) \
             "${REPO}/conf/frontend/${kind}.yaml" $(for d in ${asr_conf_dirs}; do echo "${d}/frontend/${kind}.yaml"; done); do
        [ -f "${f}" ] && echo "${f}"
    done
    if [ -n "${variant}" ]; then
        local found=false
        for f in "${REPO}/conf/frontend/${kind}_${variant}.yaml" $(for d in ${asr_conf_dirs}; do echo "${d}/frontend/${kind}_${variant}.yaml"; done); do
            [ -f "${f}" ] && { echo "${f}"; found=true; }
        done
        ${found} || { log "experiment ${tag}: no conf/frontend/${kind}_${variant}.yaml"; return 1; }
    fi
    if [ "${kind}" = entropy ]; then
        local calib=${expdir}/unit_lm/calib/${calib_name}.yaml
        [ -f "${calib}" ] || { log "missing ${calib}: add the rate to --target_rates (and the variant to --entropy_variants) and run stage 7"; return 1; }
        echo "${calib}"
    fi
}
# input units and their token list: "<unitdir> <src_token_list>"
exp_inputs() {
    case "$(base_tag "$1")" in
        dedup_bpe) echo "${dedup_bpe_unitdir} ${dedup_bpe_token_list}" ;;
        transcript) echo "${transcript_unitdir} ${transcript_token_list}" ;;
        *) echo "${unitdir} ${src_token_list}" ;;
    esac
}
exp_sets() {   # overrides, seed, pool size: utils/exp.sh tag_sets; then ASR's own
    tag_sets "$1" "${asr_config_overrides}" "${asr_exp_overrides}" || return 1
    # ESPnet's 2x conv subsampling
    [ "$(base_tag "$1")" != dense_conv2x ] || echo "--set encoder_conf.input_layer=conv2d2"
    # a CTC from words to the same words' BPE pieces (more of them than words) cannot align
    [ "$(base_tag "$1")" != transcript ] || echo "--set model_conf.src_ctc_weight=0.0"
}

if [ "${stage}" -le 7 ]; then
    "${TEMPLATE}/units.sh" --stage "${stage}" --stop_stage "$(( stop_stage < 7 ? stop_stage : 7 ))" \
        --nj "${nj}" --ngpu "${ngpu}" --python "${python}" --dumpdir "${dumpdir}" --expdir "${expdir}" \
        --train_set "${train_set}" --valid_set "${valid_set}" --test_sets "${test_sets}" \
        --force "${force}" "${units_opts[@]+"${units_opts[@]}"}"
elif [ ${#units_opts[@]} -gt 0 ]; then
    log "ignoring units.sh options (stage > 7): ${units_opts[*]}"
fi

# sentencepiece (--bpemode) over a Kaldi text file: <text> <dir> <size> <token list out>
train_bpe() {
    local text=$1 dir=$2 size=$3 list=$4
    mkdir -p "${dir}"
    cut -f 2- -d " " "${text}" > "${dir}/train.txt"
    ${python} -c "import sentencepiece as spm, sys; spm.SentencePieceTrainer.train(input=sys.argv[1], model_prefix=sys.argv[2], vocab_size=int(sys.argv[3]), model_type=sys.argv[4], character_coverage=1.0, input_sentence_size=100000000, minloglevel=2)" \
        "${dir}/train.txt" "${dir}/bpe" "${size}" "${bpemode}"
    ${python} -m espnet2.bin.tokenize_text --token_type bpe --bpemodel "${dir}/bpe.model" \
        --input "${text}" --output "${list}" --field 2- \
        --write_vocabulary true --add_symbol "<blank>:0" --add_symbol "<unk>:1" \
        --add_symbol "<sos/eos>:-1"
    rm -f "${dir}/train.txt"
}

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
    stage_banner 8 "BPE (${bpemode}, ${nbpe}) on data/${train_set}/text -> ${bpedir}"
    train_bpe "data/${train_set}/text" "${bpedir}" "${nbpe}" "${tgt_token_list}"
    for dset in ${all_sets}; do
        ${python} -m espnet2.bin.tokenize_text --token_type bpe --bpemodel "${bpemodel}" \
            --input "${unitdir}/${dset}/text" --output - --field 2- \
            | awk '{ print NF }' | paste -d " " <(cut -f 1 -d " " "${unitdir}/${dset}/text") - \
            > "${unitdir}/${dset}/text_shape.bpe"
    done
    log "target token list: $(wc -l < "${tgt_token_list}") entries"
    if [ -n "${src_transcript}" ]; then
        # the source transcript of the units' utterances, for the source CTC
        for dset in ${all_sets}; do
            f=data/${dset}/${src_transcript}
            [ -f "${f}" ] || { log "--src_transcript: no ${f}"; exit 1; }
            awk 'NR == FNR { keep[$1]; next } ($1 in keep)' "${unitdir}/${dset}/units" "${f}" \
                > "${unitdir}/${dset}/src_transcript"
            n_in=$(wc -l < "${unitdir}/${dset}/units"); n_out=$(wc -l < "${unitdir}/${dset}/src_transcript")
            [ "${n_in}" = "${n_out}" ] || { log "${f}: ${n_out} of the ${n_in} utterances of ${unitdir}/${dset} have a transcript"; exit 1; }
        done
        train_bpe "${unitdir}/${train_set}/src_transcript" "${src_bpedir}" "${src_nbpe}" "${src_tr_token_list}"
        log "source transcript (${src_transcript}) token list: $(wc -l < "${src_tr_token_list}") entries"
    fi
    if has_exp transcript; then
        log "transcript input (${src_transcript}'s words) -> ${transcript_unitdir}"
        # shellcheck disable=SC2086
        ${python} -m espnet2_ext.bin.prep_transcript_input --unitdir "${unitdir}" --sets ${all_sets} \
            --train_set "${train_set}" --outdir "${transcript_unitdir}" --token_list "${transcript_token_list}"
    fi
    if has_exp dedup_bpe; then
        log "dedup + BPE input (${dedup_bpemode}, ${dedup_nbpe}) -> ${dedup_bpe_unitdir}"
        ${python} -m espnet2_ext.bin.prep_dedup_bpe --unitdir "${unitdir}" --sets ${all_sets} \
            --train_set "${train_set}" --nbpe "${dedup_nbpe}" --model_type "${dedup_bpemode}" \
            --outdir "${dedup_bpe_unitdir}" --token_list_dir "$(dirname "${dedup_bpe_token_list}")"
    fi
fi

# Stamps (utils/exp.sh: stamp_of) tie a derived artefact to what it was made from; a
# stage redoes its output when the stamp changed.
# what a training is made from: the merged config and the input files it reads
train_stamp() {
    local tag=$1 dir=$2 in_dir tok
    read -r in_dir tok < <(exp_inputs "${tag}")
    stamp_of "${dir}/train.yaml" "${tok}" "${tgt_token_list}" "${bpemodel}" \
        "${in_dir}/${train_set}/units" "${in_dir}/${train_set}/text" \
        "${in_dir}/${valid_set}/units" "${in_dir}/${valid_set}/text" "asr_args=${asr_args}" \
        ${src_transcript:+"${src_tr_token_list}" "${src_bpemodel}" "${unitdir}/${train_set}/src_transcript" "${unitdir}/${valid_set}/src_transcript"}
}
merge_train_config() {      # tag dir: the experiment's merged config -> <dir>/train.yaml
    local tag=$1 dir=$2 conf_list confs sets
    conf_list=$(exp_configs "${tag}") || return 1
    mapfile -t confs <<< "${conf_list}"
    sets=$(exp_sets "${tag}") || return 1
    # shellcheck disable=SC2086
    ${python} -m espnet2_ext.bin.merge_config "${confs[@]}" --drop calibration --drop unit_lm \
        ${sets} --out "${dir}/train.yaml"
}

train_one() {
    local tag=$1 dir=${expdir}/${asr_exp_prefix}_${1} in_dir tok src_args=()
    read -r in_dir tok < <(exp_inputs "${tag}")
    if [ -n "${src_transcript}" ]; then
        src_args=(--src_transcript_token_list "${src_tr_token_list}" --src_transcript_token_type bpe
                  --src_transcript_bpemodel "${src_bpemodel}"
                  --train_data_path_and_name_and_type "${unitdir}/${train_set}/src_transcript,src_transcript,text"
                  --valid_data_path_and_name_and_type "${unitdir}/${valid_set}/src_transcript,src_transcript,text")
    fi
    merge_train_config "${tag}" "${dir}" || return 1
    # a resumed training (--resume true) starts a new train.log: keep the earlier pieces
    # (train.log.1, .2, ...) so that its learning curve and training time stay whole
    rotate_log "${dir}/train.log"
    # shellcheck disable=SC2086
    ${cuda_cmd} --gpu "${ngpu}" "${dir}/train.log" \
        env ${train_threads:+OMP_NUM_THREADS=${train_threads}} \
        ${python} -m espnet2_ext.bin.mt_train --config "${dir}/train.yaml" --ngpu "${ngpu}" \
            --use_tensorboard false --use_matplotlib false --resume true \
            --multiprocessing_distributed true \
            --src_token_list "${tok}" --token_list "${tgt_token_list}" \
            --src_token_type word --token_type bpe --bpemodel "${bpemodel}" \
            --output_dir "${dir}" \
            --train_data_path_and_name_and_type "${in_dir}/${train_set}/units,src_text,text" \
            --train_data_path_and_name_and_type "${in_dir}/${train_set}/text,text,text" \
            --valid_data_path_and_name_and_type "${in_dir}/${valid_set}/units,src_text,text" \
            --valid_data_path_and_name_and_type "${in_dir}/${valid_set}/text,text,text" \
            --train_shape_file "${in_dir}/${train_set}/units_shape" \
            --train_shape_file "${in_dir}/${train_set}/text_shape.bpe" \
            --valid_shape_file "${in_dir}/${valid_set}/units_shape" \
            --valid_shape_file "${in_dir}/${valid_set}/text_shape.bpe" \
            --fold_length 500 --fold_length 150 "${src_args[@]+"${src_args[@]}"}" ${asr_args} || return 1
    # training time: the sum of the epochs' train and valid phases over all pieces of
    # the log (start-up excluded), so that a resumed training counts whole
    ${python} -m espnet2_ext.bin.learning_curve --exp "${dir}" --print_seconds > "${dir}/train_seconds" || return 1
    train_stamp "${tag}" "${dir}" > "${dir}/train.stamp"
    log "${tag}: trained in $(cat "${dir}/train_seconds") s of epochs (${dir}/train.log)"
}

# stage 9 for one experiment: train it, or keep a finished model made from the same
# config and inputs (train.stamp); a changed one is refused without --force true
train_or_keep() {
    local tag=$1 dir=${expdir}/${asr_exp_prefix}_${1} now
    stage_banner 9 "training ${tag} -> ${dir}"
    if [ -f "${dir}/${inference_model}" ] && [ "${force}" != true ]; then
        mkdir -p "${dir}/.check"
        merge_train_config "${tag}" "${dir}/.check" || return 1
        now=$(train_stamp "${tag}" "${dir}/.check")
        rm -rf "${dir}/.check"
        if [ ! -f "${dir}/train.stamp" ]; then
            log "${dir}/${inference_model} exists (no train.stamp: trained before stamps): skipping"
            return 0
        elif [ "$(cat "${dir}/train.stamp")" = "${now}" ]; then
            log "${dir}/${inference_model} exists and its config and inputs are unchanged: skipping"
            return 0
        fi
        log "${tag}: the config or the inputs changed since ${dir} was trained;" \
            "refusing to keep or overwrite it: --force true to retrain, or another --asr_exp_prefix"
        return 1
    fi
    mkdir -p "${dir}"
    train_one "${tag}"
}

if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
    # shellcheck disable=SC2086
    run_jobs "${train_jobs}" train_or_keep ${asr_exps}
    # shellcheck disable=SC2154  # set by run_jobs (utils/exp.sh)
    if [ ${#run_jobs_failed[@]} -gt 0 ]; then
        log "training failed: ${run_jobs_failed[*]} (see ${expdir}/${asr_exp_prefix}_<tag>/train.log)"; exit 1
    fi
fi

if [ "${stage}" -le 10 ] && [ "${stop_stage}" -ge 10 ]; then
    dconfs=()
    if [ -n "${decode_config}" ]; then dconfs=("${decode_config}"); else
        for f in "${REPO}/conf/decode_${task}.yaml" $(for d in ${asr_conf_dirs}; do echo "${d}/decode_${task}.yaml"; done); do
            [ -f "${f}" ] && dconfs+=("${f}")
        done
    fi
    for tag in ${asr_exps}; do
        dir=${expdir}/${asr_exp_prefix}_${tag}
        read -r in_dir _ < <(exp_inputs "${tag}")
        ${python} -m espnet2_ext.bin.merge_config "${dconfs[@]}" --out "${dir}/decode.yaml"
        tag_decode_args=${decode_args}
        [ "$(base_tag "${tag}")" != transcript ] || tag_decode_args="${decode_args} ${transcript_decode_args}"
        for dset in ${test_sets}; do
            out=${dir}/decode_${dset}
            stage_banner 10 "decoding ${dset} with ${tag} -> ${out}"
            # hypotheses are tied to the model, the decoding config and the test units
            dstamp=$(stamp_of "${dir}/${inference_model}" "${dir}/decode.yaml" "${in_dir}/${dset}/units" "decode_args=${tag_decode_args}")
            if [ -f "${out}/text" ] && [ "${force}" != true ]; then
                if [ "$(cat "${out}/decode.stamp" 2>/dev/null)" = "${dstamp}" ]; then
                    log "${out}/text exists for this model, config and test set: skipping"; continue
                fi
                log "${out}/text is stale (another model, decoding config or test set): decoding again"
            fi
            rm -rf "${out}"
            mkdir -p "${out}/log"
            "${TEMPLATE}/utils/split_scp.sh" --nj "${inference_nj}" "${in_dir}/${dset}/units" "${out}/split"
            start=$(date +%s)
            # one thread per decoding job: beam search at batch size 1 gains nothing from
            # more, and parallel jobs would oversubscribe the cores
            # shellcheck disable=SC2086
            ${decode_cmd} JOB=1:${inference_nj} "${out}/log/decode.JOB.log" \
                env OMP_NUM_THREADS=${decode_threads} ${python} -m espnet2_ext.bin.mt_inference --config "${dir}/decode.yaml" --ngpu 0 \
                    --mt_train_config "${dir}/config.yaml" --mt_model_file "${dir}/${inference_model}" \
                    --data_path_and_name_and_type "${out}/split/JOB/units,src_text,text" \
                    --output_dir "${out}/output.JOB" ${tag_decode_args}
            echo $(( $(date +%s) - start )) > "${out}/decode_seconds"
            for j in $(seq "${inference_nj}"); do cat "${out}/output.${j}/1best_recog/text"; done \
                | LC_ALL=C sort -k1,1 > "${out}/text"
            echo "${dstamp}" > "${out}/decode.stamp"
            log "${tag} ${dset}: $(wc -l < "${out}/text") hypotheses for $(wc -l < "${in_dir}/${dset}/units") utterances in $(cat "${out}/decode_seconds") s"
        done
    done
fi

if [ "${stage}" -le 11 ] && [ "${stop_stage}" -ge 11 ]; then
    for tag in ${asr_exps}; do
        dir=${expdir}/${asr_exp_prefix}_${tag}
        read -r in_dir _ < <(exp_inputs "${tag}")
        for dset in ${test_sets}; do
            stage_banner 11 "scoring ${tag} on ${dset}"
            ${python} -m espnet2_ext.bin.asr_score --ref "data/${dset}/text" --metric "${metric}" \
                --hyp "${dir}/decode_${dset}/text" --out "${dir}/decode_${dset}/score.json" \
                --mt_train_config "${dir}/config.yaml" --mt_model_file "${dir}/${inference_model}" \
                --units "${in_dir}/${dset}/units" --duration_units "${unitdir}/${dset}/units" \
                --decode_seconds_file "${dir}/decode_${dset}/decode_seconds"
        done
    done
fi

if [ "${stage}" -le 12 ] && [ "${stop_stage}" -ge 12 ]; then
    stage_banner 12 "results -> README.md"
    ${python} -m espnet2_ext.bin.asr_results --expdir "${expdir}" --exps ${asr_exps} \
        --exp_prefix "${asr_exp_prefix}" --metric "${metric}" \
        --test_sets ${test_sets} --out README.md --command "${cmdline}"
    sed -n '/^## Summary/,/^## /p' README.md
fi

if [ "${stage}" -le 13 ] && [ "${stop_stage}" -ge 13 ]; then
    for tag in ${asr_exps}; do
        dir=${expdir}/${asr_exp_prefix}_${tag}
        stage_banner 13 "packing ${dir}"
        if [ "$(base_tag "${tag}")" = dedup_bpe ] || [ "$(base_tag "${tag}")" = transcript ]; then
            # its input is sentencepiece over deduplicated units / the source transcript's
            # words, which the packed model's audio-to-units front does not make
            log "skipping ${tag}: the packed model's audio-to-units front does not produce its input"
            continue
        fi
        ${python} -m espnet2_ext.bin.pack_model --asr_train_config "${dir}/config.yaml" \
            --asr_model_file "${dir}/${inference_model}" --units_config "${expdir}/kmeans/units.yaml" \
            --outpath "${dir}/packed.zip"
    done
fi

if [ "${stage}" -le 14 ] && [ "${stop_stage}" -ge 14 ]; then
    if [ -z "${hf_repo}" ]; then
        log "stage 14: no --hf_repo given: skipping the upload"
    else
        n_exps=$(echo ${asr_exps} | wc -w)
        for tag in ${asr_exps}; do
            # one model repo per experiment: <hf_repo> alone, or <hf_repo>_<tag> for several
            repo=${hf_repo}
            [ "${n_exps}" -gt 1 ] && repo=${hf_repo}_${tag}
            stage_banner 14 "uploading ${tag} to ${repo}"
            ${python} -m espnet2_ext.bin.upload_model --model "${expdir}/${asr_exp_prefix}_${tag}/packed.zip" \
                --hf_repo "${repo}" --tag "${tag}" --results README.md
        done
    fi
fi
log "asr.sh (--task ${task}) finished (stages ${stage}-${stop_stage})"
