"""Voice notes as a speech model wants them: WhatsApp's OGG/Opus as it came, or 16 kHz mono
WAV for servers that read only PCM. PyAV decodes (its wheel bundles FFmpeg's libraries)."""

import io
import wave
from dataclasses import dataclass

import av
import av.error

# Whisper-family models hear 16 kHz mono; anything richer is resampled by them anyway.
SPEECH_RATE = 16_000
_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "webm",
}


class AudioConversionError(ValueError):
    """The bytes are not audio PyAV can decode: the voice note goes to a person."""


@dataclass(frozen=True)
class Upload:
    """The audio file as it is sent: its name tells the server its format."""

    filename: str
    content_type: str
    data: bytes


def as_sent(data: bytes, mime_type: str | None) -> Upload:
    """The voice note unchanged, named by its type ("audio/ogg; codecs=opus" -> voice.ogg)."""
    base = (mime_type or "audio/ogg").split(";")[0].strip().lower()
    return Upload(f"voice.{_EXTENSIONS.get(base, 'ogg')}", base, data)


def as_wav(data: bytes) -> Upload:
    """The voice note decoded and resampled to 16 kHz mono 16-bit PCM, in a WAV file."""
    try:
        pcm = _speech_pcm(data)
    except av.error.FFmpegError as error:
        raise AudioConversionError(f"not decodable audio ({type(error).__name__})") from error
    if not pcm:
        raise AudioConversionError("no audio samples")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SPEECH_RATE)
        writer.writeframes(pcm)
    return Upload("voice.wav", "audio/wav", out.getvalue())


def _speech_pcm(data: bytes) -> bytes:
    """The first audio stream as 16 kHz mono s16 samples (empty when there is none)."""
    pcm = bytearray()
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            return b""
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SPEECH_RATE)
        frames = container.decode(audio=0)
        for frame in [*frames, None]:  # None: what the resampler still holds
            for converted in resampler.resample(frame):
                pcm += bytes(converted.planes[0])[: converted.samples * 2]
    return bytes(pcm)
