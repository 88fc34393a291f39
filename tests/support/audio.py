"""Real voice notes for tests: espeak-ng speaks a sentence into WAV, PyAV encodes it to
OGG/Opus as WhatsApp sends voice notes. Each is made once per test session."""

import functools
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import av

# espeak-ng's voices for the languages Katha's customers speak.
VOICES = {"si": "si", "ta": "ta", "en": "en"}
OPUS_RATE = 48_000  # Opus's own rate; WhatsApp's voice notes are 48 kHz mono too


def spoken_wav(language: str, text: str) -> bytes:
    """`text` spoken by espeak-ng in `language`, as a WAV file's bytes."""
    espeak = shutil.which("espeak-ng")
    assert espeak is not None, "espeak-ng is missing: scripts/test installs it"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spoken.wav"
        subprocess.run(
            [espeak, "-v", VOICES[language], "-s", "170", "-w", str(path), text],
            check=True,
            capture_output=True,
        )
        return path.read_bytes()


@functools.cache
def voice_note(language: str, text: str) -> bytes:
    """`text` spoken in `language` as a WhatsApp voice note: OGG with one mono Opus stream."""
    out = io.BytesIO()
    with (
        av.open(io.BytesIO(spoken_wav(language, text)), mode="r") as source,
        av.open(out, "w", format="ogg") as target,
    ):
        stream = target.add_stream("libopus", rate=OPUS_RATE, layout="mono")
        for frame in source.decode(audio=0):
            frame.pts = None  # the encoder counts its own timestamps after resampling
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()
