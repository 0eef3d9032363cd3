"""The worklist web application: login, the denial worklist, denial and claim pages, unmatched queue.

Security: every page but the login page needs a logged-in user (a GET without one is sent to
``/login``, anything else is refused with 403). The login lives in a signed cookie (HttpOnly,
SameSite=Lax) whose key is made once per ledger and kept in it (``app_secrets``). Every POST
carries the login's CSRF token in a form field and is refused with 403 without it. Pages are
rendered by Jinja2 with autoescaping on, so payer and patient text is always escaped; responses
say ``Cache-Control: no-store`` and carry a Content-Security-Policy that allows no script at all.

Each page request opens one ledger connection of its own, used by everything the page reads
and closed when it is rendered (SQLite connections belong to one thread, and Starlette runs the
endpoints in a thread pool; on PostgreSQL opening a connection costs a few milliseconds, so a
page does it once); the ledger work itself is in :mod:`reconcile.workqueue`.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coding.config import Config
from reconcile.denials.worklist import ACTIONS, CATEGORIES
from reconcile.ledger.db import Connection, is_server_url
from reconcile.ledger.store import connect
from reconcile.workqueue import queries as Q
from reconcile.workqueue.states import load_states
from reconcile.workqueue.users import list_users, session_key, user_exists, verify_login
from reconcile.workqueue.work import WorkError, add_note, assign, history, set_state

TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "dripline_session"
SESSION_MAX_AGE = 12 * 60 * 60  # a working day; then log in again
CSRF_FIELD = "csrf_token"
PUBLIC_PATHS = frozenset({"/login"})
MAX_THROTTLED_NAMES = 10_000
SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


class LoginRequired:
    """ASGI middleware (inside the signed-cookie middleware): no page without a logged-in user, and the
    security headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        if scope["path"] not in PUBLIC_PATHS and not scope.get("session", {}).get("user"):
            response: Response
            if scope["method"] in ("GET", "HEAD"):
                target = scope["path"] + (
                    ("?" + scope["query_string"].decode("latin-1")) if scope["query_string"] else ""
                )
                response = RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
            else:
                response = PlainTextResponse("login required", status_code=403)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


class LoginThrottle:
    """Failed logins per user name: after ``limit`` failures within ``window`` seconds, further
    attempts for that name are refused (429) until the oldest failure leaves the window, so a
    password cannot be guessed at the speed of the KDF. Kept in memory: a restart forgets it."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, name: str) -> deque[float]:
        q = self.failures.setdefault(name, deque())
        cutoff = self.clock() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, name: str) -> bool:
        with self.lock:
            return len(self._recent(name)) >= self.limit

    def failed(self, name: str) -> None:
        with self.lock:
            self._recent(name).append(self.clock())
            if len(self.failures) > MAX_THROTTLED_NAMES:  # guessed names must not grow it without end
                for other in [k for k in self.failures if not self._recent(k)]:
                    del self.failures[other]

    def succeeded(self, name: str) -> None:
        with self.lock:
            self.failures.pop(name, None)


def _safe_next(target: str | None) -> str:
    """A redirect target after login: a path on this site only."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/denials"


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        return default


def create_app(ledger: str | Path, config: Config | None = None) -> Starlette:
    """The application over the ledger at ``ledger`` (created and migrated when needed); ``config``
    gives the payers' underpayment tolerances."""
    path = ledger if is_server_url(ledger) else Path(ledger)
    conn0 = connect(path)
    try:
        key = session_key(conn0)
    finally:
        conn0.close()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )
    templates = Jinja2Templates(env=env)
    states = load_states()
    throttle = LoginThrottle()
    env.globals.update(CATEGORIES=CATEGORIES, ACTIONS=ACTIONS, STATES=states.labels, AGE_BUCKETS=Q.AGE_BUCKETS)

    opened = threading.local()  # the connection of the request this thread is serving, if any

    @contextmanager
    def ledger_conn() -> Iterator[Connection]:
        """The request's connection: opened here, or the one an enclosing ``ledger_conn`` opened
        in this thread (:func:`one_connection`)."""
        conn = getattr(opened, "conn", None)
        if conn is not None:
            yield conn
            return
        conn = opened.conn = connect(path)
        try:
            yield conn
        finally:
            opened.conn = None
            conn.close()

    def one_connection(view: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """A page endpoint whose reads (login check, page, layout) share one connection."""

        @functools.wraps(view)
        def wrapped(request: Request) -> Response:
            with ledger_conn():
                return view(request)

        return wrapped

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = secrets.token_urlsafe(32)
        return str(token)

    def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("user", request.session.get("user"))
        context["csrf"] = csrf_token(request)
        with ledger_conn() as conn:
            context.setdefault("has_underpayments", Q.has_underpayments(conn))
        return templates.TemplateResponse(request, name, context, status_code=status)

    async def checked_form(request: Request) -> FormData:
        """The POSTed form, after checking its CSRF token against the login's (403 otherwise)."""
        form = await request.form()
        sent = form.get(CSRF_FIELD)
        expected = request.session.get("csrf")
        if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, str(expected)):
            raise HTTPException(403, "missing or wrong CSRF token")
        return form

    def logged_in_user(request: Request) -> str:
        """The logged-in user, still active in the ledger (else the login ends: 403)."""
        name = str(request.session.get("user") or "")
        with ledger_conn() as conn:
            if not user_exists(conn, name):
                request.session.clear()
                raise HTTPException(403, "login required")
        return name

    # ------------------------------------------------------------------ login

    def login_page(request: Request) -> Response:
        return render(request, "login.html", next=_safe_next(request.query_params.get("next")), error=None)

    async def login(request: Request) -> Response:
        form = await checked_form(request)
        name, password = str(form.get("username") or ""), str(form.get("password") or "")
        target = _safe_next(str(form.get("next") or ""))

        def check() -> bool:
            with ledger_conn() as conn:
                return verify_login(conn, name, password) is not None

        if throttle.blocked(name):
            return render(
                request, "login.html", status=429, next=target, error="Too many failed logins: try again later."
            )
        if not name or not await run_in_threadpool(check):
            throttle.failed(name)
            return render(request, "login.html", status=401, next=target, error="Unknown user or wrong password.")
        throttle.succeeded(name)
        request.session.clear()  # a fresh cookie on login: no token from before it stays valid
        request.session["user"] = name
        request.session["csrf"] = secrets.token_urlsafe(32)
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ pages

    def home(request: Request) -> Response:
        return RedirectResponse("/denials", status_code=303)

    def worklist(request: Request) -> Response:
        logged_in_user(request)
        qp = request.query_params
        f = Q.WorklistFilter(
            payer=qp.get("payer") or None,
            category=qp.get("category") or None,
            action=qp.get("action") or None,
            age=qp.get("age") or None,
            assignee=qp.get("assignee") or None,
            state=qp.get("state") or None,
        )
        per_page = max(1, min(_int(qp.get("per_page"), Q.PAGE_SIZE), Q.MAX_PAGE_SIZE))
        page = max(1, _int(qp.get("page"), 1))
        with ledger_conn() as conn:
            items, total = Q.worklist_page(conn, f, page, per_page)
            payers = Q.open_denial_payers(conn)
            users = [u.name for u in list_users(conn)]
        pages = max(1, -(-total // per_page))
        base = {**f.active(), **({"per_page": str(per_page)} if per_page != Q.PAGE_SIZE else {})}

        def page_url(n: int) -> str:
            return "/denials?" + urlencode({**base, "page": str(n)})

        return render(
            request,
            "worklist.html",
            items=items,
            total=total,
            page=page,
            pages=pages,
            prev_url=page_url(page - 1) if page > 1 else None,
            next_url=page_url(page + 1) if page < pages else None,
            filters=f,
            payers=payers,
            users=users,
            nobody=Q.NOBODY,
        )

    def denial_view(request: Request, denial_id: int, error: str | None = None, status: int = 200) -> Response:
        with ledger_conn() as conn:
            d = Q.denial(conn, denial_id)
            if d is None:
                raise HTTPException(404, "no such denial")
            events = history(conn, denial_id)
            users = [u.name for u in list_users(conn) if u.active]
        return render(
            request,
            "denial.html",
            status=status,
            d=d,
            events=events,
            users=users,
            next_states=states.next_states(d["state"]),
            error=error,
        )

    def denial_page(request: Request) -> Response:
        logged_in_user(request)
        return denial_view(request, int(request.path_params["denial_id"]))

    def work_action(
        do: Callable[[Connection, int, FormData, str], object],
    ) -> Callable[[Request], Awaitable[Response]]:
        """A POST endpoint that changes a denial's work (CSRF checked, user recorded), then shows it again."""

        async def endpoint(request: Request) -> Response:
            form = await checked_form(request)
            user = await run_in_threadpool(logged_in_user, request)
            denial_id = int(request.path_params["denial_id"])

            def run() -> str | None:
                with ledger_conn() as conn:
                    try:
                        do(conn, denial_id, form, user)
                    except WorkError as exc:
                        return str(exc)
                return None

            problem = await run_in_threadpool(run)
            if problem is not None:
                return await run_in_threadpool(denial_view, request, denial_id, problem, 409)
            return RedirectResponse(f"/denials/{denial_id}", status_code=303)

        return endpoint

    def do_assign(conn: Connection, denial_id: int, form: FormData, user: str) -> object:
        who = str(form.get("assignee") or "")
        return assign(conn, denial_id, who or None, user=user)

    def do_state(conn: Connection, denial_id: int, form: FormData, user: str) -> object:
        return set_state(conn, denial_id, str(form.get("state") or ""), user=user)

    def do_note(conn: Connection, denial_id: int, form: FormData, user: str) -> object:
        return add_note(conn, denial_id, str(form.get("note") or ""), user=user)

    def claim_view(request: Request) -> Response:
        logged_in_user(request)
        with ledger_conn() as conn:
            data = Q.claim_page(conn, int(request.path_params["claim_id"]))
        if data is None:
            raise HTTPException(404, "no such claim")
        return render(request, "claim.html", **data)

    def unmatched_view(request: Request) -> Response:
        logged_in_user(request)
        with ledger_conn() as conn:
            items = Q.unmatched_items(conn)
        return render(request, "unmatched.html", items=items)

    def underpayments_view(request: Request) -> Response:
        logged_in_user(request)
        with ledger_conn() as conn:
            found = Q.underpayments(conn, config)
        cols, rows = found if found is not None else ([], [])
        return render(request, "underpayments.html", present=found is not None, cols=cols, rows=rows)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "error"
        return HTMLResponse(f"<!doctype html><title>{status}</title><p>{escape(str(detail))}</p>", status)

    routes = [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/denials", one_connection(worklist)),
        Route("/denials/{denial_id:int}", one_connection(denial_page)),
        Route("/denials/{denial_id:int}/assign", work_action(do_assign), methods=["POST"]),
        Route("/denials/{denial_id:int}/state", work_action(do_state), methods=["POST"]),
        Route("/denials/{denial_id:int}/note", work_action(do_note), methods=["POST"]),
        Route("/claims/{claim_id:int}", one_connection(claim_view)),
        Route("/unmatched", one_connection(unmatched_view)),
        Route("/underpayments", one_connection(underpayments_view)),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=False,  # served on loopback over plain HTTP; a TLS proxy in front may add Secure
        ),
        Middleware(LoginRequired),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: http_error})
    app.state.ledger = path
    app.state.login_throttle = throttle
    return app
