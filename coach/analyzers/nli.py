"""Optional zero-shot intent scores from an NLI model (e.g. a multilingual XNLI cross-encoder).

Each intent becomes a hypothesis built from ``prompts/intent-hypotheses.yaml``; the entailment
logits of (utterance, hypothesis) pairs are soft-maxed across intents, as transformers' zero-shot
pipeline does, and fused with the few-shot classifier's probabilities.
"""

from __future__ import annotations

import threading

import numpy as np
import yaml

from coach.errors import ConfigError, ModelUnavailableError
from coach.models import offline_environment, resolve_model_path
from coach.resources import data_dir


def load_hypotheses(language: str) -> tuple[str, dict[str, str]]:
    """The hypothesis template and per-intent descriptions for ``language``."""
    path = data_dir("prompts") / "intent-hypotheses.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    section = data[language]
    return section["template"], dict(section["intents"])


class ZeroShotScorer:
    def __init__(self, name: str, language: str, intent_ids: list[str], *, allow_downloads: bool = False, device: str = "cpu") -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        offline_environment(allow_downloads)
        path = resolve_model_path(name, allow_downloads=allow_downloads, kind="NLI model")
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(path)
            self._model = AutoModelForSequenceClassification.from_pretrained(path).to(device).eval()
        except Exception as exc:
            raise ModelUnavailableError(f"cannot load NLI model {name!r} from {path}: {exc}") from None
        label2id = {k.lower(): v for k, v in self._model.config.label2id.items()}
        entailment = [v for k, v in label2id.items() if k.startswith("entail")]
        if not entailment:
            raise ConfigError(
                f"NLI model {name!r} has no 'entailment' label (labels: {', '.join(label2id)}); is it an NLI model?"
            )
        self._entailment = entailment[0]
        template, descriptions = load_hypotheses(language)
        self.intent_ids = [i for i in intent_ids if i in descriptions]
        self._hypotheses = [template.format(description=descriptions[i]) for i in self.intent_ids]
        self._device = device
        self._lock = threading.Lock()

    def score(self, text: str) -> dict[str, float]:
        """Probability per intent that ``text`` expresses it (soft-max over intents)."""
        import torch

        if not self.intent_ids:
            return {}
        batch = self._tokenizer(
            [text] * len(self._hypotheses), self._hypotheses, return_tensors="pt", padding=True, truncation=True, max_length=128
        ).to(self._device)
        with self._lock, torch.inference_mode():
            logits = self._model(**batch).logits[:, self._entailment].float().cpu().numpy()
        exp = np.exp(logits - logits.max())
        probabilities = exp / exp.sum()
        return dict(zip(self.intent_ids, map(float, probabilities)))
