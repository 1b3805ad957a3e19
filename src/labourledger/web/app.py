"""The ASGI app: batch pages at GS1 Digital Link paths, and a versioned JSON API.

FastAPI (on Starlette) because the API's OpenAPI document comes from the same pydantic
models the responses are checked against, and path validation errors come out as 422s
that one handler turns into problem+json; the HTML pages are plain Starlette responses.
Every route is a read: nothing a request sends can reach a write.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labourledger.digital_link import batch_path, qr_svg
from labourledger.errors import InputError, UnreachableError
from labourledger.presentation import BatchView
from labourledger.receipts import ReceiptCheck
from labourledger.report import render, stylesheet
from labourledger.web.service import NotFound, ReadOnlyWorkspace, Verified

__all__ = ["API_VERSION", "create_app"]

API_VERSION = "v1"
PROBLEM = "application/problem+json"
#: Longest request target (path and query) accepted; a QR code's URL is far shorter.
MAX_TARGET = 2048
#: Largest request body accepted: only a receipt check has one, of a few dozen bytes.
MAX_BODY = 1024
SECURITY_HEADERS = {
    # No scripts at all; the stylesheet is ours and served from here.
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
}

Lot = Annotated[
    str, Path(min_length=1, max_length=100, description="The batch's lot number, or its 0x id.")
]
Gtin = Annotated[str, Path(pattern=r"^\d{8}$|^\d{12,14}$", description="GTIN, 8 to 14 digits.")]
BatchId = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The batch's 0x id.")]
EntryRef = Annotated[str, Path(min_length=1, max_length=100)]


class ReasonOut(BaseModel):
    """One reason behind a verdict."""

    outcome: str
    check: str
    title: str
    where: str
    reason: str
    count: int


class ChainOut(BaseModel):
    """The chain and contract a batch's evidence is anchored on."""

    label: str
    chain_id: str
    contract: str
    development: bool


class BatchVerdict(BaseModel):
    """A batch's verdict, its reasons worst first, and where to check it yourself."""

    api_version: str
    batch_id: str
    lot: str
    gtin: str
    product: str
    verdict: str
    headline: str
    reasons: list[ReasonOut]
    passed: int
    total: int
    goods_list: dict[str, str]
    chain: ChainOut
    page: str
    bundle: str
    verify_command: str


class ReceiptQuery(BaseModel):
    """A worker's receipt code: sent in the body, so it stays out of URLs and logs."""

    code: str = Field(min_length=1, max_length=40)


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str


def _problem(request: Request, status: int, title: str, detail: str) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, instance=request.url.path)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM)


class _Limits:
    """Refuse oversized requests before routing, answer HEAD as GET without a body, and add
    the security headers to every response (errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        head = scope["method"] == "HEAD"
        if head:
            # HEAD is GET without the body, for every route.
            scope = {**scope, "method": "GET"}

        async def send_with_headers(message: Message) -> None:
            if head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in SECURITY_HEADERS]  # fmt: skip
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        too_long = target > MAX_TARGET
        too_big = not length.isdigit() or int(length) > MAX_BODY
        if too_long or too_big or b"transfer-encoding" in dict(scope.get("headers") or []):
            status, title = (414, "URI Too Long") if too_long else (413, "Content Too Large")
            body = json.dumps(
                {"type": "about:blank", "title": title, "status": status,
                 "detail": "this service only answers small GET requests",
                 "instance": scope.get("path", "")}
            ).encode()  # fmt: skip
            await send_with_headers(
                {"type": "http.response.start", "status": status,
                 "headers": [(b"content-type", PROBLEM.encode()),
                             (b"content-length", str(len(body)).encode())]}
            )  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)


def _verdict(v: Verified, base: str) -> BatchVerdict:
    view: BatchView = v.view
    page = base + batch_path(view.gtin or None, view.lot)
    bundle = f"{base}/api/{API_VERSION}/batches/{view.batch_id}/bundle"
    return BatchVerdict(
        api_version=API_VERSION,
        batch_id=view.batch_id,
        lot=view.lot,
        gtin=view.gtin,
        product=view.product,
        verdict=view.verdict,
        headline=view.headline,
        reasons=[
            ReasonOut(
                outcome=r.outcome,
                check=r.check,
                title=r.title,
                where=r.where,
                reason=r.text,
                count=r.count,
            )
            for r in view.reasons
        ],
        passed=view.passed,
        total=view.total,
        goods_list=dict(view.goods_list),
        chain=ChainOut(**vars(view.chain)),
        page=page,
        bundle=bundle,
        verify_command=_command(view),
    )


def _command(view: BatchView) -> str:
    chain = "RPC_URL" if view.chain.label == "embedded" else view.chain.label
    return f"labourledger verify --bundle {_bundle_name(view)} --chain {chain}"


def _bundle_name(view: BatchView) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in view.lot) or "batch"
    return f"bundle-{safe}.json"


def create_app(workspace: ReadOnlyWorkspace, *, base_url: str | None = None) -> FastAPI:
    """The app over `workspace`. `base_url` is the public address QR codes and links use;
    without it, the address each request came to."""
    app = FastAPI(
        title="labourledger verification",
        version=API_VERSION,
        description="Read-only verdicts and evidence of a product batch's labour provenance.",
        openapi_url=f"/api/{API_VERSION}/openapi.json",
        # The interactive docs load scripts from elsewhere; the CSP allows none.
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(_Limits)

    def base(request: Request) -> str:
        return (base_url or str(request.base_url)).rstrip("/")

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException) -> JSONResponse:
        return _problem(request, exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        return _problem(request, 422, "Unprocessable Content", where)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _problem(request, 404, "Not Found", str(exc))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return _problem(request, 422, "Unprocessable Content", str(exc))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        # Whatever went wrong stays in the server's log; the client learns only that it did.
        return _problem(request, 500, "Internal Server Error", "the server could not answer")

    @app.exception_handler(UnreachableError)
    async def unreachable(request: Request, exc: UnreachableError) -> JSONResponse:
        return _problem(request, 503, "Service Unavailable", str(exc))

    def render_page(root: str, lot: str, gtin: str | None) -> str:
        verified = workspace.verified(workspace.batch_id(lot, gtin))
        html = verified.pages.get(root)
        if html is None:
            from markupsafe import Markup

            view = verified.view
            link = root + batch_path(view.gtin or None, view.lot)
            html = render(
                "page.html.j2",
                view,
                static=root + "/static",
                qr=Markup(qr_svg(link)),  # our own SVG, from segno
                link=link,
                bundle_url=f"{root}/api/{API_VERSION}/batches/{view.batch_id}/bundle",
                bundle_name=_bundle_name(view),
                command=_command(view),
            )
            verified.pages[root] = html
        return html

    def render_verdict(root: str, lot: str, gtin: str | None) -> str:
        verified = workspace.verified(workspace.batch_id(lot, gtin))
        key = "api " + root
        if key not in verified.pages:
            verified.pages[key] = _verdict(verified, root).model_dump_json()
        return verified.pages[key]

    async def answer(
        request: Request, lot: str, gtin: str | None, api: bool
    ) -> HTMLResponse | Response:
        # A cached answer is served on the event loop; anything that reads the mirror or the
        # chain, or renders, runs in a worker thread so it never holds up other requests.
        root = base(request)
        hit = workspace.cached(lot, gtin)
        text = hit.pages.get(("api " if api else "") + root) if hit else None
        if text is None:
            text = await run_in_threadpool(render_verdict if api else render_page, root, lot, gtin)
        if api:
            return Response(text, media_type="application/json")
        return HTMLResponse(text)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            "<title>labourledger verification</title></head><body>"
            "<h1>labourledger verification</h1><p>Scan a product's QR code, or open "
            "<code>/batches/LOT</code>.</p></body></html>"
        )

    @app.get("/static/style.css", include_in_schema=False)
    def css() -> Response:
        return Response(
            stylesheet(),
            media_type="text/css",
            headers={"cache-control": "public, max-age=3600"},
        )

    @app.get("/01/{gtin}/10/{lot:path}", response_class=HTMLResponse, tags=["pages"])
    async def digital_link(request: Request, gtin: Gtin, lot: Lot) -> Response:
        """The batch page at its GS1 Digital Link."""
        return await answer(request, lot, gtin, api=False)

    @app.get("/batches/{lot:path}", response_class=HTMLResponse, tags=["pages"])
    async def batch_page(request: Request, lot: Lot) -> Response:
        """The batch page by lot number (or 0x batch id)."""
        return await answer(request, lot, None, api=False)

    problems: dict[int | str, dict[str, Any]] = {
        404: {"model": Problem, "description": "Not held here"},
        422: {"model": Problem, "description": "Malformed input"},
    }
    api = f"/api/{API_VERSION}"

    @app.get(f"{api}/batches/{{lot}}", response_model=BatchVerdict, responses=problems,
             tags=["batches"])  # fmt: skip
    async def batch_verdict(request: Request, lot: Lot) -> Response:
        """A batch's verdict and reasons, by lot number or 0x batch id."""
        return await answer(request, lot, None, api=True)

    @app.get(f"{api}/01/{{gtin}}/10/{{lot}}", response_model=BatchVerdict, responses=problems,
             tags=["batches"])  # fmt: skip
    async def batch_verdict_by_gtin(request: Request, gtin: Gtin, lot: Lot) -> Response:
        """A batch's verdict and reasons, by GTIN and lot as its Digital Link names it."""
        return await answer(request, lot, gtin, api=True)

    @app.get(f"{api}/batches/{{batch_id}}/report", responses=problems, tags=["batches"])
    def batch_report(batch_id: BatchId) -> dict[str, Any]:
        """The full verification report, as `labourledger verify --json` prints it."""
        return workspace.verified(workspace.batch_id(batch_id)).report

    @app.get(f"{api}/batches/{{batch_id}}/trace", responses=problems, tags=["batches"])
    def batch_trace(batch_id: BatchId) -> dict[str, Any]:
        """The batch's upstream graph: batches and facilities by tier, gaps and cycles."""
        return workspace.trace(workspace.batch_id(batch_id))

    @app.get(f"{api}/batches/{{batch_id}}/bundle", responses=problems, tags=["batches"])
    def batch_bundle(batch_id: BatchId) -> Response:
        """The self-contained evidence bundle `labourledger verify --bundle` checks."""
        found = workspace.batch_id(batch_id)
        view = workspace.verified(found).view
        body = json.dumps(workspace.bundle(found), indent=2) + "\n"
        name = quote(_bundle_name(view))
        return Response(
            body,
            media_type="application/json",
            headers={"content-disposition": f"attachment; filename={name}"},
        )

    @app.get(f"{api}/facilities/{{facility}}", responses=problems, tags=["facilities"])
    def facility(facility: EntryRef) -> dict[str, Any]:
        """A facility by 0x id or OS ID: registration, entries, links, audits, attestations."""
        return workspace.facility(facility).model_dump(mode="json")

    @app.post(f"{api}/receipts/check", response_model=ReceiptCheck, responses=problems,
              tags=["grievances"])  # fmt: skip
    def receipt_check(query: ReceiptQuery) -> ReceiptCheck:
        """Check a grievance receipt: the month received, the block it is anchored in (its
        proof checked on chain), whether the channel held its role, its status and history;
        nothing about anyone else."""
        return workspace.receipt(query.code)

    @app.get(f"{api}/audits/{{audit_id}}", responses=problems, tags=["audits"])
    def audit(audit_id: BatchId) -> dict[str, Any]:
        """An audit with each finding's history and current status."""
        return workspace.audit(audit_id).model_dump(mode="json")

    return app
