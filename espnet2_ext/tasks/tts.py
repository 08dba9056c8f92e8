"""Registration of the unit-to-mel VC model in ESPnet's TTS task.

Importing this module adds ``unit_vc`` (:class:`~espnet2_ext.vc.unit_vc.UnitVC`) to the
TTS task's ``tts_choices`` and ``world`` (:class:`~espnet2_ext.vc.world.WorldFeats`, the
coded WORLD spectral envelope) to its ``feats_extract`` choices, so that ``--tts
unit_vc`` parses, ``TTSTask.build_model`` builds it and
``TTSTask.build_model_from_file`` (ESPnet's ``Text2Speech``) rebuilds it from a saved
``config.yaml``. The class-choice registry is read when the parser is made
and when a model is built, so adding to it before either is enough.

:class:`UnitVCTTSTask` is ESPnet's TTS task unchanged except that the ``entropy``
frontend of ``unit_vc`` receives the task's token list (``--token_list``) unless its
``frontend_conf`` names one, so that the unit LM's token list is checked against it.
``build_model`` writes it into ``args.tts_conf``, which ESPnet saves in config.yaml
after building the model: the experiment stays portable, and plain ``TTSTask`` (e.g.
``Text2Speech``) rebuilds it from that file once this module is imported.
"""

import argparse

from espnet2_ext.compat import TTSTask, tts_choices, tts_feats_extractor_choices
from espnet2_ext.vc.unit_vc import UnitVC
from espnet2_ext.vc.world import WorldFeats

OUR_TTS = {"unit_vc": UnitVC}
for _name, _cls in OUR_TTS.items():
    tts_choices.classes[_name] = _cls
OUR_FEATS = {"world": WorldFeats}
for _name, _cls in OUR_FEATS.items():
    tts_feats_extractor_choices.classes[_name] = _cls


class UnitVCTTSTask(TTSTask):
    """ESPnet's TTS task; fills ``tts_conf.frontend_conf.token_list`` for unit_vc."""

    @classmethod
    def build_model(cls, args: argparse.Namespace):
        conf = dict(getattr(args, "tts_conf", None) or {})
        fconf = dict(conf.get("frontend_conf") or {})
        if (
            getattr(args, "tts", None) == "unit_vc"
            and conf.get("frontend") == "entropy"
            and fconf.get("token_list") is None
            and getattr(args, "token_list", None) is not None
        ):
            tokens = args.token_list
            if isinstance(tokens, str):
                with open(tokens, encoding="utf-8") as f:
                    tokens = [line.rstrip() for line in f]
            args.tts_conf = dict(conf, frontend_conf=dict(fconf, token_list=tokens))
        return super().build_model(args)
