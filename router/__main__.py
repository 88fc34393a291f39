"""`python -m router`: the router under uvicorn, configured from KATHA_ROUTER_* variables."""

import uvicorn

from katha.observability import configure_logging
from router.app import create_app
from router.settings import RouterSettings


def main() -> None:
    settings = RouterSettings()
    key = settings.pseudonym_key
    configure_logging(
        settings.log_level,
        settings.log_format.value,
        pseudonym_key=key.get_secret_value().encode() if key is not None else None,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
