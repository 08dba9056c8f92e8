#!/usr/bin/env bash
# Shared staged script: audio data dirs -> discrete units -> unit LM -> thresholds.
#
#   stage 1: data preparation (the recipe's local/data.sh)
#   stage 2: feature extraction (MFCC or HuBERT layer), nj shards
#   stage 3: k-means on a random subset of the training features
#   stage 4: unit dumps for every set (Kaldi-style text: utt u u u ...)
#   stage 5: unit token list (ESPnet order: by frequency) and shape files
#   stage 6: unit LM training (espnet2.bin.lm_train); with --dedup_unit_lm true also an
#            LM on the units with consecutive repeats removed (<expdir>/unit_lm_dedup);
#            with --unit_lm_extra_sets also deduplicated-units LMs trained on more
#            (unlabeled) speech (--unit_lm_extra_lms: <expdir>/unit_lm_dedup_ext, ...)
#   stage 7: entropy threshold calibration to the target rates
#
# Recipes call it from their run.sh; every option below can be given as --name value.
set -euo pipefail

stage=1
stop_stage=100
nj=2                      # parallel jobs for feature extraction / unit dumps
ngpu=0
python=python3
dumpdir=dump
expdir=exp
train_set=train
valid_set=dev
test_sets="test"
local_data_opts=""
feature=mfcc              # mfcc | hubert
feature_conf=""           # space-separated key=value, e.g. "layer=9 checkpoint=/x.pt"
n_clusters=500
km_max_frames=1000000
km_seed=0
km_args=""                # extra args for espnet2_ext.bin.learn_kmeans (e.g. "--n_init 3 --max_iter 20")
unit_lm_config=conf/unit_lm.yaml   # recipe override, merged over <repo>/conf/unit_lm.yaml
unit_lm_args=""           # extra args for espnet2.bin.lm_train
dedup_unit_lm=false       # also train the unit LM on deduplicated units (GSLM's input), for
                          # variants whose frontend_conf says lm_dedup: true
dedup_unit_lm_config=conf/unit_lm_dedup.yaml  # merged over the unit LM's configs for it,
                          # when it exists (e.g. more epochs: an epoch holds half the tokens)
unit_lm_extra_sets=""     # unlabeled data dirs (data/<set>/wav.scp) whose units only train
                          # extra LMs on ${train_set} + these sets, deduplicated (the paper's
                          # LM pre-trained on unlabeled speech; ESPnet's lm_train_text idea).
                          # Stages 2 and 4 make their units; no ASR ever reads them
unit_lm_extra_lms="ext:conf/unit_lm_ext.yaml"  # those LMs: NAME:CONFIG, space- or comma-
                          # separated (each config merged over the dedup LM's configs), trained
                          # into <expdir>/unit_lm_dedup_<NAME>. A variant chooses one with a
                          # top-level "unit_lm: unit_lm_dedup_<NAME>" in its frontend yaml
entropy_variants=""       # also calibrate conf/frontend/entropy_<v>.yaml -> calib/<v>_rate<R>.yaml
target_rates="25 15 8"    # segments per second
# The boundary rule and the LM scoring options (rule, rel_threshold, max_len, min_len,
# lm_window, lm_overlap, lm_dtype) come from the merged frontend config
# (<repo>/conf/frontend/entropy.yaml, conf/frontend/entropy.yaml, then the variant's),
# the LM from this stage's own experiment; the calibration file repeats all of them,
# and training merges it last, so calibration and training cannot drift apart.
unit_rate=50
calib_max_utts=2000
force=false               # redo stages whose outputs exist

# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [options]   (see the stage list at the top of $0)"

TEMPLATE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
REPO=$(cd "${TEMPLATE}/../.." && pwd)
. "${TEMPLATE}/utils/parse_options.sh"
. "${TEMPLATE}/utils/log.sh"
[ -f ./path.sh ] && . ./path.sh
[ -f ./cmd.sh ] && . ./cmd.sh
: "${train_cmd:=${TEMPLATE}/utils/launch.sh --backend local}"
: "${cuda_cmd:=${train_cmd}}"

all_sets="${train_set} ${valid_set} ${test_sets}"
unit_sets="${all_sets} ${unit_lm_extra_sets}"   # what stages 2 and 4 make units for
featdir=${dumpdir}/feats
unitdir=${dumpdir}/units
km=${expdir}/kmeans/km_${feature}_${n_clusters}.npy   # plain centroid array (no pickle)
token_list=${dumpdir}/token_list/units/tokens.txt
lm_exp=${expdir}/unit_lm
lm_dedup_exp=${expdir}/unit_lm_dedup

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    stage_banner 1 "data preparation: local/data.sh ${local_data_opts}"
    # eval: quotes inside --local_data_opts group words as the user wrote them
    eval "local/data.sh ${local_data_opts}"
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    stage_banner 2 "features (${feature}) for ${unit_sets}, ${nj} shards each"
    for dset in ${unit_sets}; do
        out=${featdir}/${feature}/${dset}
        mkdir -p "${out}/log"
        # shellcheck disable=SC2086
        ${train_cmd} JOB=1:${nj} "${out}/log/dump.JOB.log" \
            bash -c "${python} -m espnet2_ext.bin.dump_features --wav_scp data/${dset}/wav.scp \
                --feature ${feature} ${feature_conf:+--feature_conf ${feature_conf}} \
                --nshard ${nj} --rank \$((JOB - 1)) --out_dir ${out}"
        grep -h -o "in=[0-9]* out=[0-9]* skipped=[0-9]*.*" "${out}"/log/dump.*.log | sed "s|^|  ${dset} shard: |" >&2 || true
        count_report "features ${dset}" "data/${dset}/wav.scp" "$(cat "${out}"/feats.*.scp | wc -l)"
    done
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    stage_banner 3 "k-means K=${n_clusters} on <= ${km_max_frames} frames of ${train_set}"
    if [ -f "${km}" ] && [ "${force}" != true ]; then
        log "k-means model exists: ${km} (--force true to redo)"
    elif [ -f "${km%.npy}.pkl" ] && [ "${force}" != true ]; then
        # this recipe's own model from before k-means files became plain arrays
        log "converting this experiment's legacy k-means model ${km%.npy}.pkl -> ${km}"
        ${python} -m espnet2_ext.bin.convert_kmeans --trust_remote_pickle "${km%.npy}.pkl" "${km}"
    else
        mkdir -p "$(dirname "${km}")"
        ${train_cmd} "$(dirname "${km}")/learn_kmeans.log" \
            ${python} -m espnet2_ext.bin.learn_kmeans \
                --feats_scp ${featdir}/${feature}/${train_set}/feats.*.scp \
                --n_clusters "${n_clusters}" --max_frames "${km_max_frames}" \
                --seed "${km_seed}" --out "${km}" --overwrite ${km_args}
    fi
    # what inference needs to turn audio into the same units (read by pack/transcribe)
    {
        echo "feature: ${feature}"
        echo "feature_conf:"
        for kv in ${feature_conf}; do echo "    ${kv%%=*}: ${kv#*=}"; done
        [ -n "${feature_conf}" ] || echo "    {}"
        echo "kmeans: ${km}"
        echo "n_clusters: ${n_clusters}"
        echo "unit_rate: ${unit_rate}"
        echo "token_list: ${token_list}"
    } > "${expdir}/kmeans/units.yaml"
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    stage_banner 4 "unit dumps for ${unit_sets}"
    for dset in ${unit_sets}; do
        out=${unitdir}/${dset}
        mkdir -p "${out}/log"
        # shellcheck disable=SC2086
        ${train_cmd} JOB=1:${nj} "${out}/log/apply.JOB.log" \
            bash -c "${python} -m espnet2_ext.bin.apply_kmeans \
                --feats_scp ${featdir}/${feature}/${dset}/feats.\$((JOB - 1)).scp \
                --km ${km} --out ${out}/units.JOB.txt"
        cat "${out}"/units.*.txt | LC_ALL=C sort -k1,1 > "${out}/units"
        # transcripts of the utterances that have units (skips were logged above)
        awk 'NR == FNR { keep[$1]; next } ($1 in keep)' "${out}/units" "data/${dset}/text" > "${out}/text"
        count_report "units ${dset}" "data/${dset}/wav.scp" "${out}/units"
    done
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    stage_banner 5 "unit token list (${token_list}) and shape files"
    mkdir -p "$(dirname "${token_list}")"
    ${python} -m espnet2.bin.tokenize_text --token_type word --input "${unitdir}/${train_set}/units" \
        --output "${token_list}" --field 2- \
        --write_vocabulary true --add_symbol "<blank>:0" --add_symbol "<unk>:1" \
        --add_symbol "<sos/eos>:-1"
    for dset in ${unit_sets}; do
        awk '{ print $1, NF - 1 }' "${unitdir}/${dset}/units" > "${unitdir}/${dset}/units_shape"
    done
    log "token list: $(wc -l < "${token_list}") entries"
fi

# train_unit_lm EXPDIR SUFFIX [TRAIN_DIR [CONFIG...]]: the unit LM on
# <TRAIN_DIR>/units${SUFFIX} (default ${unitdir}/${train_set}), validated on ${valid_set}
train_unit_lm() {
    local exp=$1 sfx=$2 train_dir=${3:-} n c st
    [ -n "${train_dir}" ] || train_dir=${unitdir}/${train_set}
    shift 2; [ $# -gt 0 ] && shift
    mkdir -p "${exp}"
    # shared default, then the recipe's override(s): the merged file is the one used
    lm_confs=("${REPO}/conf/unit_lm.yaml")
    [ -f "${unit_lm_config}" ] && lm_confs+=("${unit_lm_config}")
    for c in "$@"; do if [ -f "${c}" ]; then lm_confs+=("${c}"); fi; done
    ${python} -m espnet2_ext.bin.merge_config "${lm_confs[@]}" --out "${exp}/train.yaml"
    # a finished LM trained on the same config and units is kept without starting
    # ESPnet (train.stamp); otherwise (or with --force true) the run resumes
    st=$({ cat "${exp}/train.yaml" "${train_dir}/units${sfx}" "${unitdir}/${valid_set}/units${sfx}" "${token_list}"
        echo "${unit_lm_args}"; } | sha256sum | cut -c1-16)
    if [ "${force}" != true ] && [ -f "${exp}/valid.loss.ave.pth" ] && [ "$(cat "${exp}/train.stamp" 2>/dev/null)" = "${st}" ]; then
        log "${exp}: trained before on the same config and units: kept"
        return 0
    fi
    rm -f "${exp}/train.stamp"
    # a rerun resumes (or finds the training done): keep the earlier log as train.log.<n>
    if [ -f "${exp}/train.log" ]; then
        n=1
        while [ -f "${exp}/train.log.${n}" ]; do n=$((n + 1)); done
        mv "${exp}/train.log" "${exp}/train.log.${n}"
    fi
    # shellcheck disable=SC2086
    ${cuda_cmd} --gpu "${ngpu}" "${exp}/train.log" \
        ${python} -m espnet2.bin.lm_train --config "${exp}/train.yaml" --ngpu "${ngpu}" --resume true \
            --multiprocessing_distributed true \
            --token_list "${token_list}" --token_type word --output_dir "${exp}" \
            --train_data_path_and_name_and_type "${train_dir}/units${sfx},text,text" \
            --valid_data_path_and_name_and_type "${unitdir}/${valid_set}/units${sfx},text,text" \
            --train_shape_file "${train_dir}/units${sfx}_shape" \
            --valid_shape_file "${unitdir}/${valid_set}/units${sfx}_shape" \
            --fold_length 500 --use_tensorboard false --use_matplotlib false ${unit_lm_args}
    echo "${st}" > "${exp}/train.stamp"
}

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    also=""
    [ "${dedup_unit_lm}" = true ] && also=" and ${lm_dedup_exp}"
    [ -n "${unit_lm_extra_sets}" ] && also+=" and $(for x in ${unit_lm_extra_lms//,/ }; do printf '%s ' "${expdir}/unit_lm_dedup_${x%%:*}"; done)"
    stage_banner 6 "unit LM (${unit_lm_config}) -> ${lm_exp}${also}"
    train_unit_lm "${lm_exp}" ""
    if [ "${dedup_unit_lm}" = true ] || [ -n "${unit_lm_extra_sets}" ]; then
        for dset in ${train_set} ${valid_set} ${unit_lm_extra_sets}; do
            awk '{ printf "%s", $1; p = ""; for (i = 2; i <= NF; i++) if ($i != p) { printf " %s", $i; p = $i } print "" }' \
                "${unitdir}/${dset}/units" > "${unitdir}/${dset}/units_dedup"
            awk '{ print $1, NF - 1 }' "${unitdir}/${dset}/units_dedup" > "${unitdir}/${dset}/units_dedup_shape"
        done
        log "deduplicated ${train_set}: $(awk '{ n += NF - 1 } END { print n }' "${unitdir}/${train_set}/units_dedup") units of $(awk '{ n += NF - 1 } END { print n }' "${unitdir}/${train_set}/units")"
    fi
    if [ "${dedup_unit_lm}" = true ]; then
        train_unit_lm "${lm_dedup_exp}" "_dedup" "" "${dedup_unit_lm_config}"
    fi
    if [ -n "${unit_lm_extra_sets}" ]; then
        # the pre-training text: the ASR's training units and the unlabeled sets' units
        ext_dir=${unitdir}/lm_train_ext
        mkdir -p "${ext_dir}"
        for dset in ${train_set} ${unit_lm_extra_sets}; do cat "${unitdir}/${dset}/units_dedup"; done > "${ext_dir}/units_dedup"
        awk '{ print $1, NF - 1 }' "${ext_dir}/units_dedup" > "${ext_dir}/units_dedup_shape"
        dup=$(cut -d' ' -f1 "${ext_dir}/units_dedup" | sort | uniq -d | wc -l)
        [ "${dup}" -eq 0 ] || { log "${ext_dir}: ${dup} utterance ids occur in more than one of ${train_set} ${unit_lm_extra_sets}"; exit 1; }
        log "extra LM text: $(wc -l < "${ext_dir}/units_dedup") utterances, $(awk '{ n += NF - 1 } END { print n }' "${ext_dir}/units_dedup") deduplicated units (${train_set} ${unit_lm_extra_sets})"
        for x in ${unit_lm_extra_lms//,/ }; do
            [[ "${x}" == *:* ]] || { log "--unit_lm_extra_lms: '${x}' is not NAME:CONFIG"; exit 1; }
            [ -f "${x#*:}" ] || log "--unit_lm_extra_lms: no ${x#*:}: unit_lm_dedup_${x%%:*} is trained with the dedup LM's configs alone"
            train_unit_lm "${expdir}/unit_lm_dedup_${x%%:*}" "_dedup" "${ext_dir}" "${dedup_unit_lm_config}" "${x#*:}"
        done
    fi
fi

# calibrate NAME RATE FRONTEND_CONFIG: calib/NAME.yaml, kept while its stamp (the frontend
# config, the LM, the training units, the rate, the options) is unchanged. Returns 3 when
# the rule cannot give RATE on this data (calibrate_threshold's exit status for that).
# A frontend config with lm_dedup: true is calibrated with the deduplicated units' LM,
# one with a top-level "unit_lm: <dir under expdir>" with that LM.
calibrate() {
    local name=$1 rate=$2 fconf=$3 stamp rc=0 lm=${lm_exp} chosen
    local out=${lm_exp}/calib/${name}.yaml
    chosen=$(${python} -m espnet2_ext.bin.merge_config "${fconf}" --get unit_lm | tr -d '"')
    if [ "${chosen}" != null ]; then
        lm=${expdir}/${chosen}
        [ -f "${lm}/valid.loss.ave.pth" ] || { log "${name}: its unit_lm ${lm} is not trained (stage 6: --unit_lm_extra_sets with --unit_lm_extra_lms makes unit_lm_dedup_<NAME>)"; exit 1; }
    elif [ "$(${python} -m espnet2_ext.bin.merge_config "${fconf}" --get frontend_conf.lm_dedup 2>/dev/null)" = true ]; then
        lm=${lm_dedup_exp}
        [ -f "${lm}/valid.loss.ave.pth" ] || { log "${name}: lm_dedup needs ${lm} (run stage 6 with --dedup_unit_lm true)"; exit 1; }
    fi
    stamp=$(calib_stamp "${fconf}" "${rate}" "${lm}")
    if [ "${force}" != true ] && [ -f "${out}" ] && [ "$(cat "${out%.yaml}.stamp" 2>/dev/null)" = "${stamp}" ]; then
        log "${name}: calibrated before with the same inputs: kept"
        return 0
    fi
    # out of reach before with the same inputs: the same answer, without the sweep
    if [ "${force}" != true ] && [ "$(cat "${out%.yaml}.unreachable" 2>/dev/null)" = "${stamp}" ]; then
        return 3
    fi
    rm -f "${out}" "${out%.yaml}.stamp" "${out%.yaml}.unreachable"
    ${train_cmd} "${lm_exp}/calib/${name}.log" \
        ${python} -m espnet2_ext.bin.calibrate_threshold \
            --lm_train_config "${lm}/config.yaml" --lm_file "${lm}/valid.loss.ave.pth" \
            --units "${unitdir}/${train_set}/units" --target_rate "${rate}" --unit_rate "${unit_rate}" \
            --max_utts "${calib_max_utts}" --out "${out}" --frontend_config "${fconf}" || rc=$?
    if [ "${rc}" -ne 0 ]; then
        if grep -q "is outside what" "${lm_exp}/calib/${name}.log"; then
            echo "${stamp}" > "${out%.yaml}.unreachable"
            return 3
        fi
        log "${name}: calibration failed (exit ${rc}); see ${lm_exp}/calib/${name}.log"; exit "${rc}"
    fi
    echo "${stamp}" > "${out%.yaml}.stamp"
    log "${name}: $(grep -E 'threshold|achieved_rate' "${out}" | tr -s ' ' | paste -sd' ')"
}
calib_stamp() {  # FRONTEND_CONFIG RATE LM_EXP: what a calibration depends on
    {
        cat "$1" "$3/valid.loss.ave.pth" "${unitdir}/${train_set}/units" | sha256sum
        echo "$2 ${unit_rate} ${calib_max_utts}"
    } | sha256sum | cut -c1-16
}

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    stage_banner 7 "threshold calibration (conf/frontend/entropy.yaml${entropy_variants:+; variants: ${entropy_variants}}) to ${target_rates} segments/s"
    mkdir -p "${lm_exp}/calib"
    for v in "" ${entropy_variants}; do
        vconfs=()
        for f in "${REPO}/conf/frontend/entropy.yaml" conf/frontend/entropy.yaml \
                 ${v:+"${REPO}/conf/frontend/entropy_${v}.yaml" "conf/frontend/entropy_${v}.yaml"}; do
            if [ -f "${f}" ]; then vconfs+=("${f}"); fi
        done
        if [ -n "${v}" ] && [[ " ${vconfs[*]} " != *"entropy_${v}.yaml "* ]]; then
            log "variant ${v}: no conf/frontend/entropy_${v}.yaml"; exit 1
        fi
        ${python} -m espnet2_ext.bin.merge_config "${vconfs[@]}" --out "${lm_exp}/calib/frontend${v:+_${v}}.yaml"
        for rate in ${target_rates}; do
            rc=0
            calibrate "${v:+${v}_}rate${rate}" "${rate}" "${lm_exp}/calib/frontend${v:+_${v}}.yaml" || rc=$?
            [ "${rc}" -eq 0 ] && continue
            if [ -z "${v}" ]; then
                log "rate ${rate}: out of reach of conf/frontend/entropy.yaml's rule on this data ($(grep -o 'outside what.*' "${lm_exp}/calib/rate${rate}.log" | head -1)); change --target_rates"
                exit 1
            fi
            # a variant that cannot reach one of the rates (e.g. max_len 4 never gives 8/s):
            # a logged skip; an experiment that asks for it stops on the missing file
            log "variant ${v} at ${rate}/s: skipped, out of reach ($(grep -o 'outside what.*' "${lm_exp}/calib/${v}_rate${rate}.log" | head -1))"
        done
    done
fi
log "units.sh finished (stages ${stage}-${stop_stage})"
