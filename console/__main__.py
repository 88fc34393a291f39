"""`python -m console`: the owner console, as its Deployment runs it."""

from typing import Any

import uvicorn
from prometheus_client import start_http_server

from console.app import create_app
from console.settings import ConsoleSettings
from katha.observability import configure_logging


def server_options(settings: ConsoleSettings) -> dict[str, Any]:
    """How uvicorn serves the console. X-Forwarded-For is believed only from the proxies
    `trusted_proxies` names (never "*": anyone could then pick their own address and dodge
    the per-client limits). No access log: the OIDC callback's URL carries a code."""
    proxies = settings.proxies()
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or "",
    }


def main() -> None:
    settings = ConsoleSettings()
    configure_logging(settings.log_level, str(settings.log_format))
    app = create_app(settings)
    if settings.metrics_port:  # its own port: the Ingress publishes only the pages and API
        start_http_server(
            settings.metrics_port, addr=settings.host, registry=app.state.metrics.registry
        )
    uvicorn.run(app, **server_options(settings))


if __name__ == "__main__":
    main()
