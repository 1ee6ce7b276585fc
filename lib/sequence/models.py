"""The sequence models by name: name -> (config dataclass, model class)."""

from __future__ import annotations

from ..models import config_class
from .decoder_transformer import DecoderTransformer, DecoderTransformerConfig, SequenceModel
from .feedback_transformer import FeedbackTransformer, FeedbackTransformerConfig

SEQ_MODELS: dict[str, tuple[type, type]] = {
    "feedback_transformer": (FeedbackTransformerConfig, FeedbackTransformer),
    "decoder_transformer": (DecoderTransformerConfig, DecoderTransformer),
}


def sequence_model_config(name: str, vocab_size: int, **overrides):
    """The config of sequence model ``name`` for a task vocabulary (unknown fields are errors)."""
    cfg_cls = config_class(SEQ_MODELS, name, overrides, what="sequence model")
    if "vocab_size" in overrides:
        raise TypeError("vocab_size comes from the task; do not set it in model_args")
    return cfg_cls(vocab_size=vocab_size, **overrides)


def build_sequence_model(name: str, vocab_size: int, **overrides) -> SequenceModel:
    return SEQ_MODELS[name][1](sequence_model_config(name, vocab_size, **overrides))


__all__ = ["SEQ_MODELS", "SequenceModel", "sequence_model_config", "build_sequence_model"]
