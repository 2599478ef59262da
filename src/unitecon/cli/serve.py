"""Service commands: `serve` (receiver, read API, dashboard) and `keys create|list|revoke`."""

from __future__ import annotations

import errno
import gc
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, table
from unitecon.errors import UniteconError

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
LedgerOpt = Annotated[
    Path | None,
    typer.Option("--ledger", help="Ledger file (default: $UNITECON_HOME/ledger.duckdb)."),
]

keys_app = typer.Typer(
    help=(
        "API keys of `unitecon serve`: ingest (write only), read, admin (both).\n\n"
        "Examples:\n\n"
        "  unitecon keys create ingest --name checkout-service\n\n"
        "  unitecon keys revoke 3f9a1c2e"
    ),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")


def _ledger_path(ledger: Path | None) -> Path:
    from unitecon.ledger.store import DB_NAME, home

    return ledger if ledger is not None else home() / DB_NAME


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise UniteconError(
                    f"Port {port} on {host} is already in use; pick another with --port."
                ) from None
            raise UniteconError(f"Cannot listen on {host}:{port}: {e.strerror}.") from None


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 for all).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (4318 is the OTLP/HTTP default).")] = 4318,
    ledger: LedgerOpt = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
    ] = None,
    decode_processes: Annotated[
        int | None,
        typer.Option(
            help="Processes that decode and validate OTLP bodies beside the server process "
            "(default: one per core up to 4 on a machine with 2 or more cores, else 0: "
            "decoded in the server process).",
            min=0,
        ),
    ] = None,
    prewarm: Annotated[
        bool,
        typer.Option(
            help="Compute the dashboard's default answers in the background at start "
            "(--no-prewarm: only on demand; e.g. to time on-demand reads with nothing "
            "competing for the cores).",
        ),
    ] = True,
    keep_answers: Annotated[
        bool,
        typer.Option(
            help="Keep answers beside the ledger (answers.sqlite), so a restart answers its "
            "first reads at once (--no-keep-answers: every start computes them again).",
        ),
    ] = True,
) -> None:
    """Run the OTLP receiver, the read API and the dashboard on one port.

    Example: unitecon serve --port 4318, then point OpenTelemetry exporters at
    http://127.0.0.1:4318 with OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer <ingest key>".
    """
    import uvicorn

    from unitecon import config as cfg
    from unitecon.ledger.store import Ledger
    from unitecon.server.app import Settings, create_app
    from unitecon.server.auth import KeyStore, Kind

    if not 0 < port < 65536:
        raise UniteconError(f"--port must be between 1 and 65535, got {port}.")
    path = _ledger_path(ledger)
    config_path = cfg.find(config)
    project = cfg.load(config_path)
    from unitecon.cli.session import running_service

    other = running_service(path)
    if other is not None:
        raise UniteconError(
            f"`unitecon serve` already runs on {path} (process {other['pid']}, {other['url']}); "
            "use it, or stop it first, or serve another ledger with --ledger."
        )
    with Ledger(path):  # fail here, with a message, if it is locked or too new
        pass
    _check_port(host, port)
    store = KeyStore.beside(path)
    kinds = {k.kind for k in store.list(include_revoked=False)}
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    console.print(f"[bold]unitecon[/] serving {path}")
    console.print(f"  dashboard      {url}/   (asks for a read key)")
    console.print(f"  OTLP traces    {url}/v1/traces   (ingest key)")
    console.print(f"  API docs       {url}/docs")
    if Kind.READ not in kinds and Kind.ADMIN not in kinds:
        console.print("  [yellow]No read key yet:[/] unitecon keys create read --name dashboard")
    if Kind.INGEST not in kinds and Kind.ADMIN not in kinds:
        console.print("  [yellow]No ingest key yet:[/] unitecon keys create ingest --name app")
    if decode_processes is None:
        decode_processes = Settings.default_decode_processes()
    if keep_answers:
        from unitecon.server.cache import KEPT_FILE, KeptAnswers

        store_of_answers = KeptAnswers.beside(path)
        kept = len(store_of_answers) if store_of_answers is not None else 0
        if kept:
            console.print(
                f"  kept answers   {kept} from an earlier run ({KEPT_FILE}): served at once, "
                "marked stale if the ledger changed since"
            )
    settings = Settings(
        decode_processes=decode_processes, prewarm=prewarm, keep_answers=keep_answers
    )
    app = create_app(path, project, keys=store, settings=settings, config_path=config_path)
    local = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    inner = app.router.lifespan_context
    where = f"http://{local if ':' not in local else f'[{local}]'}:{port}"

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[None]:
        # inside the app's lifespan: uvicorn re-raises SIGTERM after its shutdown, which
        # would skip a `finally` around `uvicorn.run`
        async with inner(a):
            # what the start made (modules, the app, the engine's compilers: most of what
            # the process will ever hold) is left out of the cyclic collector's full passes,
            # which otherwise walk it all each time: 110-130 ms pauses, on a second read
            # served from the cache too (docs/benchmarks.md, "Session 10: the issue's
            # targets"); its garbage is collected first
            gc.collect()
            gc.freeze()
            with announce(path, store, where):
                yield

    app.router.lifespan_context = lifespan
    from unitecon.server import protocol
    from unitecon.server.protocol import TimedHttpToolsProtocol

    protocol.HEADER_TIMEOUT_S = settings.header_timeout_s
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        server_header=False,
        timeout_keep_alive=max(1, int(settings.keep_alive_s)),
        limit_concurrency=settings.max_connections,
        http=TimedHttpToolsProtocol,
    )


@contextmanager
def announce(ledger: Path, store: Any, url: str) -> Iterator[None]:
    """While the service runs, a file beside the ledger says where it listens, with a key
    of its own (admin: reads and `unitecon ingest` of files) for this machine's user. The
    file is readable by its owner only, like the ledger the key reads. The command line
    asks the service while it holds the ledger (`cli/session.py`); the key is revoked and
    the file removed when the service stops."""
    import json
    import os

    from unitecon.cli.session import service_file

    secret, info = store.create("admin", name=f"command line (service pid {os.getpid()})")
    path = service_file(ledger)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "pid": os.getpid(), "key": secret}, f)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        store.revoke(info.key_id)


@keys_app.command("create")
def keys_create(
    kind: Annotated[str, typer.Argument(help="ingest, read or admin.")],
    name: Annotated[str, typer.Option(help="What the key is for (shown by `keys list`).")] = "",
    ledger: LedgerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key and print it once (only its salted hash is stored)."""
    from unitecon.server.auth import KeyStore

    store = KeyStore.beside(_ledger_path(ledger))
    key, info = store.create(kind, name)
    if as_json:
        emit_json({"key": key, "key_id": info.key_id, "kind": info.kind.value, "name": name})
        return
    console.print(f"Created {info.kind.value} key {info.key_id}" + (f" ({name})" if name else ""))
    console.print(key, highlight=False, markup=False, soft_wrap=True)
    console.print("Store it now: it is not shown again. Send it as `Authorization: Bearer <key>`.")
    if info.kind.value == "read":  # the dashboard takes a read key from the link's fragment
        console.print(
            f"Dashboard login link (with `unitecon serve` on its default address): "
            f"http://127.0.0.1:4318/#key={key}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@keys_app.command("list")
def keys_list(
    ledger: LedgerOpt = None,
    revoked: Annotated[bool, typer.Option(help="Include revoked keys.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """List API keys: id, kind, name, created, revoked (never the secret)."""
    from unitecon.server.auth import KeyStore

    keys = KeyStore.beside(_ledger_path(ledger)).list(include_revoked=revoked)
    if as_json:
        emit_json(
            [
                {
                    "key_id": k.key_id,
                    "kind": k.kind.value,
                    "name": k.name,
                    "created_at": k.created_at,
                    "revoked_at": k.revoked_at,
                }
                for k in keys
            ]
        )
        return
    if not keys:
        console.print("No API keys yet. Create one with `unitecon keys create read`.")
        return
    rows = [(k.key_id, k.kind.value, k.name, k.created_at, k.revoked_at or "") for k in keys]
    console.print(table("API keys", ["id", "kind", "name", "created", "revoked"], rows))


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`) or the key.")],
    ledger: LedgerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API key; the server refuses it within a second."""
    from unitecon.server.auth import KeyStore

    info = KeyStore.beside(_ledger_path(ledger)).revoke(key_id)
    if as_json:
        emit_json({"key_id": info.key_id, "kind": info.kind.value, "revoked": True})
        return
    console.print(f"Revoked {info.kind.value} key {info.key_id}.")
