"""Customers' voice notes, photos and documents, read into words the agent answers as text.

The router fetches the bytes (the agent never holds a WhatsApp token); here a voice note is
transcribed (`transcription`, converted where the model needs it by `audio`), a photo
described (`vision`) and a document read for the question at hand (`document`), as `policy`
decides; `reader` ties them together with metrics. Nothing here logs what was said.
"""
