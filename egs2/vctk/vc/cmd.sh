# shellcheck shell=bash
# cmd.sh.example -- how a recipe chooses where its jobs run.
#
# Copy this file to egs2/<corpus>/<task>/cmd.sh; run.sh sources it (`. ./cmd.sh || exit 1`).
# The stage scripts run every parallel or heavy step through one of three launchers:
#   train_cmd   CPU jobs: data preparation, feature dumping, k-means, statistics
#   decode_cmd  CPU inference (decoding, scoring)
#   cuda_cmd    GPU jobs: unit LM, compressor and downstream training, GPU inference
# Each is a command prefix for utils/launch.sh (see `utils/launch.sh --help`), used as
#   ${train_cmd} JOB=1:${nj} ${logdir}/dump.JOB.log python -m ... --part JOB
#   ${cuda_cmd} --gpu 1 ${expdir}/train.log python -m espnet2_ext.bin....
# Options given where the command is used are added to those set here; for the
# resource options (--gpu, --mem, --time, ...) the later value wins.
#
# Paths are relative to the recipe directory, where run.sh runs and where the symlink
# utils -> ../../TEMPLATE/utils lives.
#
# cmd_backend selects the backend:
#   local  jobs run on this machine, at most --max_jobs_run at a time (default: the
#          number of CPUs); --gpu/--mem/--time are not enforced.
#   slurm  jobs go to Slurm with `sbatch --wait` (array jobs for JOB=1:N); the recipe
#          directory must be on a filesystem the compute nodes share. launch.sh stops
#          with an error if sbatch is not installed.
# Override without editing: `cmd_backend=slurm ./run.sh ...`.

cmd_backend=${cmd_backend:-local}

case ${cmd_backend} in
  local)
    export train_cmd="utils/launch.sh --backend local"
    export decode_cmd="utils/launch.sh --backend local"
    # One GPU here: GPU jobs one at a time.
    export cuda_cmd="utils/launch.sh --backend local --max_jobs_run 1"
    ;;
  slurm)
    # Site settings: partition/account as your cluster needs them (empty: none).
    slurm_partition=${slurm_partition:-}
    slurm_gpu_partition=${slurm_gpu_partition:-${slurm_partition}}
    slurm_account=${slurm_account:-}
    _slurm_common="${slurm_account:+ --account ${slurm_account}}"
    export train_cmd="utils/launch.sh --backend slurm --mem 4G --time 4:00:00${slurm_partition:+ --partition ${slurm_partition}}${_slurm_common}"
    export decode_cmd="utils/launch.sh --backend slurm --mem 8G --time 4:00:00${slurm_partition:+ --partition ${slurm_partition}}${_slurm_common}"
    export cuda_cmd="utils/launch.sh --backend slurm --gpu 1 --mem 16G --time 24:00:00 --num_threads 4${slurm_gpu_partition:+ --partition ${slurm_gpu_partition}}${_slurm_common}"
    unset _slurm_common
    ;;
  *)
    echo "cmd.sh: unknown cmd_backend '${cmd_backend}' (local or slurm)" >&2
    # shellcheck disable=SC2317  # exit: when executed instead of sourced
    return 1 2> /dev/null || exit 1
    ;;
esac
