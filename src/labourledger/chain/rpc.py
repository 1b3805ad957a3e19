"""Any chain behind a JSON-RPC URL (anvil, geth, besu, a public network or L2)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from labourledger.chain.events import NodeTimedOut
from labourledger.chain.ledger_contract import LedgerChain
from labourledger.errors import ChainUnavailable, InputError
from labourledger.redaction import redact_text, redact_url

__all__ = ["open_rpc"]


class _LedgerHTTPProvider(HTTPProvider):
    """web3's HTTP provider, but a node that does not answer raises `ChainUnavailable`."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Send one request; transport failures name the URL and what to check."""
        url = str(self.endpoint_uri)
        try:
            return super().make_request(method, params)
        except requests.ReadTimeout as exc:
            # Connected but slow: a request asking for less may still be answered.
            raise NodeTimedOut(
                redact_text(f"chain {url} did not answer {method} in time", url)
            ) from exc
        except requests.RequestException as exc:
            raise ChainUnavailable(
                redact_text(
                    f"chain {url} did not answer {method} ({_reason(exc)}); "
                    "check that a JSON-RPC node is running at that URL",
                    url,
                )
            ) from None


def open_rpc(url: str, *, timeout: float = 10) -> LedgerChain:
    """Connect to the node at `url`; each request gives up after `timeout` seconds."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # Not a node that failed to answer (exit 3), but no node named at all.
        raise InputError(
            f"chain: expected a JSON-RPC URL such as http://127.0.0.1:8545, got {redact_url(url)!r}"
        )
    provider = _LedgerHTTPProvider(url, request_kwargs={"timeout": timeout})
    return LedgerChain(Web3(provider), label=redact_url(url), is_embedded=False)


def _reason(exc: requests.RequestException) -> str:
    """What went wrong, without urllib3's wrapping: "[Errno 111] Connection refused" rather
    than the pool, the retries and the connection object's repr."""
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
    return found[0].strip() if found else str(exc)
