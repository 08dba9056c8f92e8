# shellcheck shell=bash
# Where the corpus lives on your machine/cluster (edit, or export before run.sh).
# VCTK: the unpacked VCTK-Corpus-0.92.zip (speaker-info.txt, txt/, wav48_silence_trimmed/).
VCTK=${VCTK:-downloads/VCTK-Corpus-0.92}
