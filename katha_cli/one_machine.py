"""`katha up`, `katha chat` and `katha ask`: Katha on this machine."""

import enum
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer

from katha.api.fields import as_wa_id
from katha_cli.local.state import DEFAULT_STATE_DIR

if TYPE_CHECKING:
    from katha_cli.local.chat import Customer as ChatCustomer
    from katha_cli.local.platform import UpOptions
    from katha_cli.local.state import TenantInfo

StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        envvar="KATHA_STATE_DIR",
        help="Indexes, inbox, outbox and local secrets of `katha up`.",
    ),
]
Lang = Annotated[
    str | None,
    typer.Option(
        "--lang", help="Send a sample question in si, singlish, ta or en (the business's FAQ)."
    ),
]


def _wa_id(value: str) -> str:
    digits = as_wa_id(value)
    if digits is None:
        raise typer.BadParameter(
            f"{value[:40]!r} is not a WhatsApp number: digits, e.g. 94771234567"
        )
    return digits


Customer = Annotated[
    str,
    typer.Option(
        "--from", help="The customer's WhatsApp number (digits, as wa_id).", callback=_wa_id
    ),
]
Timeout = Annotated[
    float, typer.Option(min=1, max=3600, help="Seconds to wait for a reply (1 to 3600).")
]


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


def bundled_examples() -> Path:
    """`examples/` in the current folder, else the one beside this checkout's packages."""
    here = Path("examples")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "examples"


def up(
    directory: Annotated[
        Path | None,
        typer.Argument(help="A folder of Business YAML files (default: the bundled examples)."),
    ] = None,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    port: Annotated[
        int, typer.Option(envvar="KATHA_UP_PORT", min=1, max=65535, help="The router's port.")
    ] = 8080,
    host: Annotated[
        str,
        typer.Option(help="Where the router listens (agents and the outbox stay on loopback)."),
    ] = "127.0.0.1",
    agent_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Ray Serve's HTTP port (0: any free port).")
    ] = 0,
    sites_port: Annotated[
        int,
        typer.Option(
            min=1, max=65535, help="Port for the folder's sites/ (the URLs in web sources)."
        ),
    ] = 8790,
    console_port: Annotated[
        int,
        typer.Option(
            envvar="KATHA_UP_CONSOLE_PORT",
            min=1,
            max=65535,
            help="The owner console's port (on 127.0.0.1).",
        ),
    ] = 8791,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Re-index even when no source changed.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not print each reply.")] = False,
    log_level: Annotated[
        LogLevel, typer.Option(help="Log level of the router and ingestion.", case_sensitive=False)
    ] = LogLevel.WARNING,
) -> None:
    """Run every Business in DIRECTORY on this machine: ingest, agents on Ray Serve, router.

    Replies go to a local outbox (see `katha chat`) unless a real access token is given in
    a .env file or a Secret next to the YAML. Ctrl-C stops everything.
    """
    from katha.observability import configure_logging
    from katha_cli.local.platform import UpOptions
    from katha_cli.local.ray_agents import keep_ray_on_loopback

    keep_ray_on_loopback()
    folder = directory or bundled_examples()
    os.environ.setdefault("KATHA_LOG_LEVEL", log_level.value)
    configure_logging(log_level.value, "console")
    options = UpOptions(
        directory=folder,
        state_dir=state_dir,
        host=host,
        port=port,
        agent_port=agent_port,
        sites_port=sites_port,
        console_port=console_port,
        refresh=refresh,
        show_messages=not quiet,
        log_level=log_level.value,
    )
    raise typer.Exit(_run(options))


def _run(options: "UpOptions") -> int:
    """Start the platform, serve until Ctrl-C, stop it whatever happened; the exit code."""
    from katha_cli.local.platform import LocalPlatform, StartInterruptedError, StateLockedError
    from katha_cli.local.servers import PortInUseError
    from katha_cli.local.workspace import WorkspaceError

    platform = LocalPlatform(options, say=lambda line: typer.echo(line))
    code = 0
    try:
        platform.start()
        typer.secho("Katha is up.", fg=typer.colors.GREEN)
        code = 0 if platform.wait() else 1
    except WorkspaceError as error:
        for problem in error.problems:
            typer.secho(f"✗ {problem}", fg=typer.colors.RED, err=True)
        code = 2
    except (PortInUseError, StateLockedError) as error:
        typer.secho(f"✗ {error}", fg=typer.colors.RED, err=True)
        code = 2
    except (KeyboardInterrupt, StartInterruptedError):
        pass
    except Exception as error:
        typer.secho(f"✗ {type(error).__name__}: {error}", fg=typer.colors.RED, err=True)
        code = 1
    finally:
        typer.echo("Stopping…")
        platform.stop()
        typer.echo("Stopped.")
    return code


def chat(
    tenant: Annotated[str, typer.Argument(help="The business: name, namespace/name or number ID.")],
    lang: Lang = None,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    customer: Customer = "94770000000",
    name: Annotated[str, typer.Option(help="The customer's profile name.")] = "Katha tester",
    timeout: Timeout = 60.0,
) -> None:
    """Talk to a business as a WhatsApp customer. Type a message; /si /singlish /ta /en send a
    sample question in that language; /from NUMBER changes the customer; /release gives a
    conversation handed to a person back to the agent (as the owner); /quit leaves."""
    from katha_cli.local.chat import ChatError, Customer, find_tenant
    from katha_cli.local.state import NotRunningError, read_state

    try:
        state = read_state(state_dir)
        info = find_tenant(state, tenant)
    except (NotRunningError, ChatError) as error:
        typer.secho(f"✗ {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Chatting with {info.display_name} ({info.key}) as +{customer}. /quit to leave.")
    turns: dict[str, int] = {}
    person = Customer(state, info, number=customer, name=name, timeout=timeout)
    first = f"/{lang}" if lang else None
    with person:
        while True:
            try:
                line, first = (first, None) if first else (input("you › ").strip(), None)
            except (EOFError, KeyboardInterrupt):
                typer.echo("")
                return
            if not line:
                continue
            if line in {"/quit", "/exit"}:
                return
            if line.startswith("/"):
                sent = _chat_command(line, person, info, turns)
                if sent is None:
                    continue
                line = sent
            try:
                answer = person.ask(line)
            except ChatError as error:
                typer.secho(f"✗ {error}", fg=typer.colors.RED)
                continue
            except httpx.HTTPError as error:
                typer.secho(f"✗ {unreachable(error)}", fg=typer.colors.RED)
                continue
            _print_answer(info.display_name, answer.as_dict())


def _chat_command(
    line: str, person: "ChatCustomer", info: "TenantInfo", turns: dict[str, int]
) -> str | None:
    """/release, /from NUMBER, or /LANG: the sample question to send, if any."""
    from katha_cli.local.chat import ChatError, sample

    if line == "/release":
        try:
            ref = person.release()
        except ChatError as error:
            typer.secho(f"✗ {error}", fg=typer.colors.RED)
        else:
            typer.echo(f"released {ref}: the agent answers this conversation again")
        return None
    if line.startswith("/from "):
        person.number = line.split(maxsplit=1)[1].lstrip("+")
        typer.echo(f"now writing as +{person.number}")
        return None
    language = line[1:]
    try:
        question = sample(info, language, turns.get(language, 0))
    except ChatError as error:
        typer.secho(f"✗ {error}", fg=typer.colors.RED)
        return None
    turns[language] = turns.get(language, 0) + 1
    typer.echo(f"you › {question}")
    return question


def ask(
    tenant: Annotated[str, typer.Argument(help="The business: name, namespace/name or number ID.")],
    text: Annotated[str | None, typer.Argument(help="The customer's message.")] = None,
    lang: Lang = None,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    customer: Customer = "94770000000",
    timeout: Timeout = 60.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")] = False,
) -> None:
    """Send one message as a customer and print the reply, its language, sources and latency."""
    from katha_cli.local.chat import ChatError, Customer, find_tenant, sample
    from katha_cli.local.state import NotRunningError, read_state

    try:
        state = read_state(state_dir)
        info = find_tenant(state, tenant)
        if text is None:
            if lang is None:
                raise ChatError("say something: TEXT, or --lang si|singlish|ta|en for a sample")
            text = sample(info, lang)
        with Customer(state, info, number=customer, timeout=timeout) as person:
            answer = person.ask(text)
    except (NotRunningError, ChatError) as error:
        typer.secho(f"✗ {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except httpx.HTTPError as error:
        typer.secho(f"✗ {unreachable(error)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    document = {"question": text, **answer.as_dict()}
    if json_output:
        typer.echo(json.dumps(document, ensure_ascii=False))
    else:
        if lang is not None:
            typer.echo(f"you › {text}")
        _print_answer(info.display_name, document)


def unreachable(error: Exception) -> str:
    return f"katha up did not answer ({type(error).__name__}); is it still running?"


def _print_answer(business: str, answer: dict[str, object]) -> None:
    typer.secho(f"{business} › {answer['text']}", fg=typer.colors.CYAN)
    details = [
        f"language {answer['language']}",
        f"intent {answer['intent']}",
        f"{answer['seconds']} s",
    ]
    if answer.get("handoff"):
        details.append(
            "handed to a person: the owner was told, and the agent stays quiet in this "
            "conversation until they release it (/release in katha chat) or 10 minutes pass"
        )
    sources = answer.get("sources") or []
    typer.secho("   " + " · ".join(details), dim=True)
    for source in sources if isinstance(sources, list) else []:
        typer.secho(f"   source: {source}", dim=True)
    sys.stdout.flush()
