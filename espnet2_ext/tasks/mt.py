"""Registration of the compression frontends in ESPnet's MT task (used by discrete ASR
and speech translation), and a thin MT task that passes the source token list on."""

import argparse

from espnet2_ext.compat import MTTask
from espnet2_ext.compat import mt_frontend_choices as frontend_choices
from espnet2_ext.compress.dedup import DedupEmbedFrontend
from espnet2_ext.compress.frontend import EntropyCompressFrontend, FixedPoolFrontend

OUR_FRONTENDS = {
    "entropy_compress": EntropyCompressFrontend,
    "fixed_pool": FixedPoolFrontend,
    "dedup": DedupEmbedFrontend,
}
for _name, _cls in OUR_FRONTENDS.items():
    frontend_choices.classes[_name] = _cls


class CompressMTTask(MTTask):
    """ESPnet's MT task, unchanged except that a compression frontend receives the
    source token list (``--src_token_list``) unless its config names one, so that the
    unit LM's token list is checked against it. The list is stored in the saved
    config.yaml, which makes the experiment portable."""

    @classmethod
    def build_model(cls, args: argparse.Namespace):
        if (
            getattr(args, "frontend", None) in ("entropy_compress", "fixed_pool")
            and args.frontend_conf.get("token_list") is None
            and getattr(args, "src_token_list", None) is not None
        ):
            src = args.src_token_list
            if isinstance(src, str):
                with open(src, encoding="utf-8") as f:
                    src = [line.rstrip() for line in f]
            args.frontend_conf = dict(args.frontend_conf, token_list=list(src))
        return super().build_model(args)
