"""Speech features must not depend on the thread count: a Ray worker held to one thread and a review
in one process must hear the same words."""

from __future__ import annotations

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor
from threadpoolctl import threadpool_limits

from coach.audio.asr import _steady_features


def _features_by_threads(extractor: FeatureExtractor, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with threadpool_limits(1, "blas"):
        one = extractor(audio)
    with threadpool_limits(2, "blas"):
        two = extractor(audio)
    return one, two


def test_mel_features_are_the_same_on_one_thread_and_two():
    audio = (np.random.default_rng(0).standard_normal(16_000 * 30) * 0.1).astype(np.float32)
    one, two = _features_by_threads(_steady_features(FeatureExtractor()), audio)
    assert one.dtype == np.float32
    assert np.array_equal(one, two)
    # what Whisper hears is unchanged beyond float32 rounding
    assert np.abs(one - FeatureExtractor()(audio)).max() < 1e-5
