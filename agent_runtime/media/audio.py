"""Voice notes as a speech model wants them: WhatsApp's OGG/Opus as it came, or 16 kHz mono
WAV for servers that read only PCM. PyAV decodes (its wheel bundles FFmpeg's libraries).

A voice note comes from a stranger: its length is checked before anything is sent or
decoded, and decoding stops at the same length whatever the header claimed, so a crafted
note can neither keep a speech model busy for an hour nor fill the agent's memory.
"""

import io
import itertools
import wave
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

# PyAV (FFmpeg's libraries, tens of MiB) loads with the first voice note, not with every
# replica: most shops never configure a speech model.
if TYPE_CHECKING:
    import av.container

# Whisper-family models hear 16 kHz mono; anything richer is resampled by them anyway.
SPEECH_RATE = 16_000
_SAMPLE_BYTES = 2  # s16
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


class AudioTooLongError(AudioConversionError):
    """The voice note is longer than the agent listens to: a person listens instead."""


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


def check_length(data: bytes, max_seconds: float) -> float:
    """The voice note's length in seconds, from its container (or, when the container does
    not say, its packets' durations, read without decoding); AudioTooLongError above
    `max_seconds`, AudioConversionError when it holds no audio PyAV reads."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioConversionError("no audio stream")
            seconds = _declared_seconds(container)
            if seconds is None:
                seconds = _packet_seconds(container, max_seconds)
    except AudioConversionError:
        raise
    except Exception as error:  # FFmpeg's, PyAV's or anything a crafted file provokes
        raise AudioConversionError(f"not readable audio ({type(error).__name__})") from error
    if seconds > max_seconds:
        raise AudioTooLongError(f"{seconds:.0f} s, more than {max_seconds:.0f} s")
    return seconds


def as_wav(data: bytes, max_seconds: float) -> Upload:
    """The voice note decoded and resampled to 16 kHz mono 16-bit PCM, in a WAV file; no more
    than `max_seconds` of it is ever decoded (AudioTooLongError past that)."""
    try:
        pcm = _speech_pcm(data, int(max_seconds * SPEECH_RATE) * _SAMPLE_BYTES)
    except AudioConversionError:
        raise
    except Exception as error:  # FFmpeg's, PyAV's or anything a crafted file provokes
        raise AudioConversionError(f"not decodable audio ({type(error).__name__})") from error
    if not pcm:
        raise AudioConversionError("no audio samples")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(_SAMPLE_BYTES)
        writer.setframerate(SPEECH_RATE)
        writer.writeframes(pcm)
    return Upload("voice.wav", "audio/wav", out.getvalue())


def _declared_seconds(container: "av.container.InputContainer") -> float | None:
    import av

    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _packet_seconds(container: "av.container.InputContainer", max_seconds: float) -> float:
    """The packets' durations added up, stopping once past `max_seconds`."""
    stream = container.streams.audio[0]
    total = Fraction(0)
    for packet in container.demux(stream):
        if packet.duration is not None and packet.time_base is not None:
            total += packet.duration * packet.time_base
            if total > max_seconds:
                break
    return float(total)


def _speech_pcm(data: bytes, max_bytes: int) -> bytes:
    """The first audio stream as 16 kHz mono s16 samples (empty when there is none)."""
    import av

    pcm = bytearray()
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            return b""
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SPEECH_RATE)
        # One frame at a time (never the whole note at once); None: what the resampler holds.
        for frame in itertools.chain(container.decode(audio=0), [None]):
            for converted in resampler.resample(frame):
                pcm += bytes(converted.planes[0])[: converted.samples * _SAMPLE_BYTES]
            if len(pcm) > max_bytes:  # a header that lied about the length
                raise AudioTooLongError(f"more than {max_bytes} bytes of samples")
    return bytes(pcm)
