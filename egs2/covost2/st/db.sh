# Where the corpora live on your machine/cluster (edit, or export before run.sh).
# COMMONVOICE: the Common Voice v4 release, one directory per language
#   (${COMMONVOICE}/en/validated.tsv, ${COMMONVOICE}/en/clips/*.mp3, ${COMMONVOICE}/fr/...).
# COVOST2: the directory with the CoVoST 2 translation files
#   (covost_v2.en_de.tsv, covost_v2.fr_en.tsv, ...; unpacked from covost_v2.<src>_<tgt>.tsv.tar.gz).
COMMONVOICE=${COMMONVOICE:-downloads/cv-corpus-4-2019-12-10}
COVOST2=${COVOST2:-downloads/covost2}
