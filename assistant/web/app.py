"""One server for everything: the JSON API, the source view, the widget and the Gradio chat, built by
`create_app(settings)`.

Owns the wiring and the edge: AssistantErrors become HTTP statuses with a readable `detail`, CORS is decided here
(not by Gradio, which echoes any origin; the widget's per key in widget.py), and `serve` runs uvicorn. Routes live
in api.py and widget.py, the chat in chat.py.
"""

from __future__ import annotations

import math
import re
import socket
import threading
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from assistant.answer import AbstainPolicy
from assistant.application import Assistant, open_assistant
from assistant.config import Settings, go_offline
from assistant.errors import (
    AssistantError,
    ConfigError,
    IndexMismatchError,
    IndexMissingError,
    StoreUnavailableError,
)
from assistant.staff import StaffLog
from assistant.types import Document
from assistant.web import security, widget
from assistant.web.api import router
from assistant.web.docs import install as install_docs
from assistant.web.staff import router as staff_router

# Status per error class; the most specific class listed wins (see `_status`).
STATUS: dict[type[AssistantError], int] = {
    ConfigError: 400,
    IndexMissingError: 503,
    IndexMismatchError: 503,
    StoreUnavailableError: 503,
}


class Backend:
    """The assistant, opened on first use when the server started before there was an index."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self._assistant = assistant
        self._lock = threading.Lock()

    def get(self) -> Assistant:
        """The assistant; IndexMissingError (-> 503) until `assistant ingest` has written an index."""
        if self._assistant is None:
            with self._lock:
                if self._assistant is None:
                    self._assistant = open_assistant(self.settings)
        self._assistant.refresh()  # a finished ingest (its new generation) is seen between requests
        return self._assistant

    def docs(self) -> list[Document]:
        """The documents known now, or none while there is no index or no store (the chat still starts)."""
        try:
            return self.get().documents()
        except (IndexMissingError, StoreUnavailableError):
            return []


def _status(err: AssistantError) -> int:
    for cls in type(err).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _encodable(value: Any) -> Any:
    """`value` as strict JSON can carry it, so that an error that echoes bad input can be sent: a lone UTF-16
    surrogate becomes U+FFFD and a number JSON has no word for (1e400 and NaN parse to inf and nan) a string."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


# An absolute path in a message (the index folder of IndexMissingError) is the server's business: only its last name
# goes out. Not after ':' or '/', so URLs (http://127.0.0.1:8000) stay whole.
_PATH = re.compile(r"(?<![\w:/.])(?:/[\w.+-]+)+/?")


async def _assistant_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AssistantError)
    detail = _PATH.sub(lambda m: m.group().rstrip("/").rsplit("/", 1)[-1] + "/", str(exc))
    return JSONResponse({"detail": _encodable(detail)}, status_code=_status(exc))


def _readable(error: dict[str, Any]) -> str:
    loc = [part for part in error.get("loc", ()) if part != "body"]
    if len(loc) >= 2 and loc[0] == "history" and isinstance(loc[1], int):
        return _history_readable(loc[1] + 1, loc[2:], error)
    if error.get("type") == "question":
        return str(error["msg"])  # already Dutch / English (views.question_problem)
    if error.get("type") == "json_invalid":
        return "De aanvraag is geen geldige JSON. / The request body is not valid JSON."
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"Ongeldige invoer in {where or 'de aanvraag'}. / Invalid input in {where or 'the request'}: {error['msg']}."


def _history_readable(turn: int, where: Sequence[Any], error: dict[str, Any]) -> str:
    """An error in one earlier turn of `history`, naming the turn (counted from 1, oldest first)."""
    if error.get("type") == "question":
        return f"Geschiedenis, beurt {turn}: {error['msg']}"
    field = ".".join(str(part) for part in where) or "de beurt"
    return (
        f'Beurt {turn} van de geschiedenis is onleesbaar ({field}): verwacht {{"question": ..., "cited": ["doc#3e"]}}. '
        f'/ History turn {turn} is malformed ({field}: {error["msg"]}): expected {{"question": ..., "cited": '
        '["doc#3e"]}.'
    )


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Without "input": the bad value may be megabytes (security.BodyCap bounds it), and the client has it already.
    errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
    detail = " ".join(_readable(e) for e in errors)
    return JSONResponse(_encodable({"detail": detail, "errors": jsonable_encoder(errors)}), status_code=422)


def create_app(
    settings: Settings,
    assistant: Assistant | None = None,
    cors_origins: Sequence[str] | None = None,
    abstain_policy: AbstainPolicy | None = None,
) -> FastAPI:
    """The API, the source view and the chat on one FastAPI app; opens the index unless given an assistant.

    `cors_origins`: the sites whose pages may call the API from a browser (default: none besides our own).
    """
    go_offline()  # before Gradio is imported: it reads its analytics switch then
    import gradio as gr

    from assistant.web import chat

    backend = Backend(settings, assistant)
    docs = backend.docs()
    app = FastAPI(
        title="Parlement Q&A",
        summary="Antwoorden uit schriftelijke vragen, in de eigen woorden van de minister, tot op de deelvraag.",
        version="0.1.0",
        docs_url=None,  # docs.install serves /docs offline; FastAPI's loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.state.backend = backend
    app.state.abstain_policy = abstain_policy
    # Beside the index served: the assistant's own folder when one is given (tests, eval/load.py), else the settings'.
    app.state.staff = StaffLog.open(settings, getattr(getattr(assistant, "index", None), "dir", None))
    origins = list(cors_origins if cors_origins is not None else getattr(settings, "cors_origins", ()))
    # Always installed, with no origins: Gradio then leaves CORS to us instead of echoing every origin;
    # the site's origins get CORS on /api/* only (security.ApiCors).
    app.add_middleware(CORSMiddleware, allow_origins=[])
    storage = security.open_storage(settings.rate_limit_storage)
    # Added after the CORS, so it runs before it: the widget routes get CORS per widget key instead.
    app.add_middleware(widget.WidgetGate, policy=widget.Policy(settings.widget_keys(), storage))
    app.add_exception_handler(AssistantError, _assistant_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.include_router(router)
    app.include_router(widget.router)
    app.include_router(staff_router)
    install_docs(app, app.title)
    blocks = chat.build(backend.get, abstain_policy, docs, app.state.staff)
    security.install(app, blocks, settings, origins, storage)
    # Mounted last: the API, /docs and /doc/... routes are matched before Gradio's catch-all at "/".
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        css=chat.CSS,
        head=chat.HEAD,
        theme=chat.theme(),
        footer_links=[],  # no Settings panel (English, with "Progressive Web App" and "Screen Studio")
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
    )


def bind(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, for uvicorn to serve on; ConfigError saying so when the port is taken."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise ConfigError(f"Cannot listen on {host!r}: {err.strerror}. Give an address with --host.") from None
    sock = socket.socket(family, kind, proto)
    # As uvicorn binds: a port left in TIME_WAIT by the last server is free, one another server listens on is not.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        raise ConfigError(
            f"Port {port} on {host} is in use ({err.strerror}): stop the other server or pick another port with "
            "--port (or ASSISTANT_PORT)."
        ) from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, assistant: Assistant | None = None, sock: socket.socket | None = None) -> None:
    """Run the app with uvicorn on settings.host:settings.port (over `assistant`, else the index it opens).

    The port is bound first (or `sock`, bound by the caller, is used), so a port in use is an error before anything
    is loaded or announced."""
    import uvicorn

    sock = sock or bind(settings.host, settings.port)
    try:
        assistant = assistant or open_assistant(settings)
    except (IndexMissingError, StoreUnavailableError) as err:
        print(f"{err} The server starts anyway and answers 503 until it can open the index.")
    app = create_app(settings, assistant)
    url = f"http://{settings.host}:{settings.port}"
    print(f"Parlement Q&A: {url}/  (JSON-API: {url}/docs)", flush=True)
    # proxy_headers off: X-Forwarded-* count only from ASSISTANT_FORWARDED_ALLOW_IPS (security.ProxyGuard), where
    # uvicorn's default would trust any process on 127.0.0.1.
    config = uvicorn.Config(app, log_level="warning", proxy_headers=False)
    uvicorn.Server(config).run(sockets=[sock])
