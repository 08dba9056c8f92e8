# Where the corpora live on your machine/cluster (edit, or export before run.sh).
# LIBRISPEECH is the directory that contains LibriSpeech/ (train-clean-100, dev-clean, ...).
LIBRISPEECH=${LIBRISPEECH:-downloads}
