"""Registration of the compression frontends and the ``discrete_st`` model in ESPnet's
MT task (used by discrete ASR and speech translation), and a thin MT task that passes
the source token list on and reads the source transcript of speech translation."""

import argparse
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from espnet2_ext.compat import MTTask
from espnet2_ext.compat import mt_frontend_choices as frontend_choices
from espnet2_ext.compat import mt_model_choices as model_choices
from espnet2_ext.compat import mt_specaug_choices as specaug_choices
from espnet2_ext.compress.dedup import DedupEmbedFrontend
from espnet2_ext.compress.frontend import (
    EntropyCompressFrontend,
    FixedPoolFrontend,
    OraclePoolFrontend,
)
from espnet2_ext.st.discrete_st_model import DiscreteSTModel

OUR_FRONTENDS = {
    "entropy_compress": EntropyCompressFrontend,
    "fixed_pool": FixedPoolFrontend,
    "oracle_pool": OraclePoolFrontend,
    "dedup": DedupEmbedFrontend,
}
for _name, _cls in OUR_FRONTENDS.items():
    frontend_choices.classes[_name] = _cls
model_choices.classes["discrete_st"] = DiscreteSTModel

#: the optional data key of the source-language transcript (``model: discrete_st``)
SRC_TRANSCRIPT = "src_transcript"


class CompressMTTask(MTTask):
    """ESPnet's MT task, unchanged except that a compression frontend receives the
    source token list (``--src_token_list``) unless its config names one, so that the
    unit LM's token list is checked against it. The list is stored in the saved
    config.yaml, which makes the experiment portable.

    For speech translation (``model: discrete_st``) it also reads the source-language
    transcript (data key ``src_transcript``, tokenised with
    ``--src_transcript_token_type/_token_list/_bpemodel``) for the model's auxiliary
    CTC, stores that token list in ``model_conf`` (so ESPnet's own ``MTTask`` rebuilds
    the model at inference), and gives the model its SpecAug, which ESPnet's
    ``MTTask.build_model`` passes to ``discrete_asr`` only."""

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_task_arguments(parser)
        group = parser.add_argument_group("Source transcript (model: discrete_st)")
        group.add_argument(
            "--src_transcript_token_list",
            default=None,
            help="token list of the source-language transcript (its auxiliary CTC)",
        )
        group.add_argument(
            "--src_transcript_token_type",
            default="bpe",
            choices=["bpe", "char", "word"],
            help="tokenizer of the source-language transcript",
        )
        group.add_argument(
            "--src_transcript_bpemodel",
            default=None,
            help="sentencepiece model of the source-language transcript",
        )

    @classmethod
    def optional_data_names(
        cls, train: bool = True, inference: bool = False
    ) -> Tuple[str, ...]:
        return () if inference else (SRC_TRANSCRIPT,)

    @classmethod
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Optional[Callable[[str, Dict[str, np.ndarray]], Dict[str, np.ndarray]]]:
        if not args.use_preprocessor or not getattr(
            args, "src_transcript_token_list", None
        ):
            return super().build_preprocess_fn(args, train)
        from espnet2_ext.compat import MutliTokenizerCommonPreprocessor

        enc = (
            [args.tokenizer_encode_conf, args.src_tokenizer_encode_conf, {}]
            if train
            else [{}, {}, {}]
        )
        return MutliTokenizerCommonPreprocessor(
            train=train,
            token_type=[
                args.token_type,
                args.src_token_type,
                args.src_transcript_token_type,
            ],
            token_list=[
                args.token_list,
                args.src_token_list,
                args.src_transcript_token_list,
            ],
            bpemodel=[args.bpemodel, args.src_bpemodel, args.src_transcript_bpemodel],
            non_linguistic_symbols=args.non_linguistic_symbols,
            text_cleaner=args.cleaner,
            g2p_type=args.g2p,
            text_name=["text", "src_text", SRC_TRANSCRIPT],
            tokenizer_encode_conf=enc,
        )

    @classmethod
    def build_model(cls, args: argparse.Namespace):
        st = getattr(args, "model", None) == "discrete_st"
        if st:
            conf = dict(args.model_conf or {})
            tl = conf.get("src_transcript_token_list") or getattr(
                args, "src_transcript_token_list", None
            )
            if isinstance(tl, str):
                with open(tl, encoding="utf-8") as f:
                    tl = [line.rstrip() for line in f]
            if tl is not None:
                conf["src_transcript_token_list"] = list(tl)  # portable config
            args.model_conf = conf
        if (
            getattr(args, "frontend", None)
            in ("entropy_compress", "fixed_pool", "oracle_pool")
            and args.frontend_conf.get("token_list") is None
            and getattr(args, "src_token_list", None) is not None
        ):
            src = args.src_token_list
            if isinstance(src, str):
                with open(src, encoding="utf-8") as f:
                    src = [line.rstrip() for line in f]
            args.frontend_conf = dict(args.frontend_conf, token_list=list(src))
        model = super().build_model(args)
        if st and getattr(args, "specaug", None) is not None:
            # ESPnet's MTTask builds the SpecAug but hands it to discrete_asr only
            cls_ = specaug_choices.get_class(args.specaug)
            model.specaug = cls_(**args.specaug_conf)
        return model
