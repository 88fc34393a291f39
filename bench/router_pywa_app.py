"""The comparison point for bench/router.py: a minimal webhook app on the `pywa` package
(signature check and acknowledgement only; no dedupe, no durable inbox)."""

import os

from fastapi import FastAPI
from pywa import WhatsApp, types


def create_app() -> FastAPI:
    app = FastAPI()
    whatsapp = WhatsApp(
        phone_id=os.environ["BENCH_PHONE_NUMBER_ID"],
        token=os.environ["BENCH_ACCESS_TOKEN"],
        server=app,
        webhook_endpoint="/webhooks/whatsapp",
        verify_token=os.environ["BENCH_VERIFY_TOKEN"],
        app_secret=os.environ["BENCH_APP_SECRET"],
        validate_updates=True,
    )

    @whatsapp.on_message()
    def acknowledge(_client: WhatsApp, _message: types.Message) -> None:
        """Nothing: the acknowledgement is the whole job here."""

    return app
