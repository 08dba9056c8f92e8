"""Discrete-unit speech translation with an auxiliary CTC on the source transcript.

ESPnet's discrete ASR model (``model: discrete_asr``) puts its CTC on the output text.
In translation the output (German) is not monotonic in the source audio (verb-final
clauses, separable verbs), so our ST config turns that CTC off, and then nothing but
the attention decoder trains the encoder: on the embedded corpus the decoder learned a
German language model and ignored the source (BLEU 2.4 after 1,648 updates; see
``egs2/mini_synth/st/README.md``). ESPnet's own ST model
(``espnet2/st/espnet_model.py``) answers this with a CTC over the *source-language*
transcript on the encoder output, which is monotonic in the audio.
:class:`DiscreteSTModel` is that for unit input:

    units (B, T) -> frontend (dense | dedup | fixed_pool | entropy_compress) -> encoder
    -> (B, T', D) -+-> attention decoder over the target tokens   (loss_att)
                   +-> CTC over the source-transcript tokens      (loss_src_ctc)

    loss = (1 - src_ctc_weight) * loss_att + src_ctc_weight * loss_src_ctc

The transcript is the optional data key ``src_transcript`` (token ids from its own
token list and BPE model, ``--src_transcript_token_list`` etc. of
:class:`espnet2_ext.tasks.mt.CompressMTTask`). Inference only encodes and decodes, so
the model decodes exactly like ``discrete_asr``; the source CTC's token list is kept in
``model_conf`` so that ESPnet's ``MTTask`` rebuilds the same parameters from the saved
config.
"""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from typeguard import typechecked

from espnet2_ext.compat import (
    CTC,
    AbsDecoder,
    AbsEncoder,
    AbsFrontend,
    AbsPostEncoder,
    AbsPreEncoder,
    AbsSpecAug,
    ASRErrorCalculator,
    ESPnetDiscreteASRModel,
    force_gatherable,
)


class DiscreteSTModel(ESPnetDiscreteASRModel):
    """``discrete_asr`` for translation: no CTC on the target, an optional CTC on the
    source transcript (registered in ESPnet's MT task as ``model: discrete_st``).

    Args (beyond ESPnet's ``ESPnetDiscreteASRModel``, whose keyword arguments all pass
    through):
        src_transcript_token_list: the source transcript's tokens (index 0 is the CTC
            blank); empty: no source CTC.
        src_ctc_weight: weight of the source CTC in [0, 1); 0 turns it off.
        ctc, specaug: as ESPnet's; optional here because ESPnet's ``MTTask`` passes
            them to ``discrete_asr`` only (:class:`~espnet2_ext.tasks.mt.CompressMTTask`
            sets the SpecAug for training).
    """

    @typechecked
    def __init__(
        self,
        vocab_size: int,
        token_list: Union[Tuple[str, ...], List[str]],
        frontend: Optional[AbsFrontend],
        preencoder: Optional[AbsPreEncoder],
        encoder: AbsEncoder,
        postencoder: Optional[AbsPostEncoder],
        decoder: AbsDecoder,
        specaug: Optional[AbsSpecAug] = None,
        ctc: Optional[CTC] = None,
        ctc_weight: float = 0.0,
        src_transcript_token_list: Sequence[str] = (),
        src_ctc_weight: float = 0.0,
        **kwargs,
    ):
        if ctc_weight != 0.0:
            raise ValueError(
                "discrete_st: a CTC on the translation (ctc_weight "
                f"{ctc_weight}) is not supported: the target is not monotonic in the "
                "source; use src_ctc_weight (CTC on the source transcript)"
            )
        if not 0.0 <= src_ctc_weight < 1.0:
            raise ValueError(f"src_ctc_weight must be in [0, 1), got {src_ctc_weight}")
        if src_ctc_weight > 0.0 and len(src_transcript_token_list) < 2:
            raise ValueError(
                "src_ctc_weight > 0 needs the source transcript's token list "
                "(model_conf.src_transcript_token_list or --src_transcript_token_list; "
                "the recipes: asr.sh --task st --src_transcript text.tc.<src lang>)"
            )
        if kwargs.get("interctc_weight", 0.0) != 0.0:
            raise ValueError("discrete_st does not support interctc_weight")
        super().__init__(
            vocab_size=vocab_size,
            token_list=token_list,
            frontend=frontend,
            specaug=specaug,
            preencoder=preencoder,
            encoder=encoder,
            postencoder=postencoder,
            decoder=decoder,
            ctc=ctc,
            ctc_weight=0.0,
            **kwargs,
        )
        self.src_ctc_weight = src_ctc_weight
        self.src_transcript_token_list = list(src_transcript_token_list)
        self.src_ctc: Optional[CTC] = None
        self.src_error_calculator = None
        if src_ctc_weight > 0.0:
            odim = (
                self.postencoder.output_size()
                if self.postencoder is not None
                else self.encoder.output_size()
            )
            self.src_ctc = CTC(
                odim=len(self.src_transcript_token_list), encoder_output_size=odim
            )
            self.src_error_calculator = ASRErrorCalculator(
                self.src_transcript_token_list, "<space>", "<blank>", True, True
            )

    def forward(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        src_text: torch.Tensor,
        src_text_lengths: torch.Tensor,
        src_transcript: Optional[torch.Tensor] = None,
        src_transcript_lengths: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, Optional[torch.Tensor]], torch.Tensor]:
        """Encoder, decoder and the losses.

        Args:
            text: (B, L) target token ids, padded with -1; text_lengths: (B,)
            src_text: (B, T) unit ids; src_text_lengths: (B,)
            src_transcript: (B, S) source-transcript token ids (needed when
                src_ctc_weight > 0); src_transcript_lengths: (B,)
        Returns:
            loss (scalar), stats (loss, loss_att, loss_src_ctc, acc, cer_src_ctc, ...),
            batch size (weight)
        """
        batch_size = src_text.shape[0]
        if not (text.shape[0] == text_lengths.shape[0] == batch_size):
            raise ValueError(
                "batch sizes differ: "
                f"{text.shape} {text_lengths.shape} {src_text.shape}"
            )
        text = text[:, : text_lengths.max()]
        src_text = src_text[:, : src_text_lengths.max()]

        encoder_out, encoder_out_lens = self.encode(src_text, src_text_lengths)
        if isinstance(encoder_out, tuple):  # intermediate outputs: unused here
            encoder_out = encoder_out[0]

        loss_att, acc_att, cer_att, wer_att = self._calc_att_loss(
            encoder_out, encoder_out_lens, text, text_lengths
        )
        stats: Dict[str, Optional[torch.Tensor]] = {
            "loss_att": loss_att.detach(),
            "acc": acc_att,
            "cer": cer_att,
            "wer": wer_att,
        }
        loss = loss_att
        if self.src_ctc is not None:
            if src_transcript is None or src_transcript_lengths is None:
                raise ValueError(
                    "src_ctc_weight > 0 but the batch has no 'src_transcript': give "
                    "the source transcript as data (asr.sh --src_transcript)"
                )
            src_transcript = src_transcript[:, : src_transcript_lengths.max()]
            loss_ctc = self.src_ctc(
                encoder_out, encoder_out_lens, src_transcript, src_transcript_lengths
            )
            stats["loss_src_ctc"] = loss_ctc.detach()
            if not self.training:
                ys_hat = self.src_ctc.argmax(encoder_out).data
                stats["cer_src_ctc"] = self.src_error_calculator(
                    ys_hat.cpu(), src_transcript.cpu(), is_ctc=True
                )
            w = self.src_ctc_weight
            loss = (1 - w) * loss_att + w * loss_ctc
        stats["loss"] = loss.detach()
        loss, stats, weight = force_gatherable((loss, stats, batch_size), loss.device)
        return loss, stats, weight
