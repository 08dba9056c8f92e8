# Job launcher backend for every stage: local (this machine, parallel jobs) or slurm.
# See ../../TEMPLATE/conf/cmd.sh.example for the options.
cmd_backend=${cmd_backend:-local}
_launch="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/utils/launch.sh"
case "${cmd_backend}" in
    local) export train_cmd="${_launch} --backend local"
           export decode_cmd="${_launch} --backend local"
           export cuda_cmd="${_launch} --backend local" ;;
    slurm) export train_cmd="${_launch} --backend slurm --mem 8G --time 4:00:00"
           export decode_cmd="${_launch} --backend slurm --mem 8G --time 4:00:00"
           export cuda_cmd="${_launch} --backend slurm --mem 32G --time 48:00:00" ;;
    *) echo "cmd.sh: unknown cmd_backend=${cmd_backend}" >&2; return 1 ;;
esac
