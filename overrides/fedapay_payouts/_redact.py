"""Keeping the API key out of every text built from what a server sends back.

A broken or hostile server can echo the key anywhere: an error body, a header (`X-Request-Id`), the
reason phrase, a malformed status or header line (h11 quotes the bytes in its error), a field of a
2xx payout. Every text this package builds from server data goes through `Redactor.redact` before it
reaches an exception, a log record or a repr. It masks the whole key, its percent-encoded form, and
any piece of either of 8 characters or more (a server that cuts the key short, or a text cut later,
must not show a prefix). Texts are redacted first and cut afterwards.

httpx and httpcore format server data in their own log records ("HTTP Request: ... 200 <reason>",
httpcore's DEBUG lines with the raw status line and headers, "exception=RemoteProtocolError(...)"),
so `install_log_filter` puts a filter on their loggers, and ours, that redacts the keys of the
clients alive in this process (each client registers its key here; the registry holds no client).
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
import weakref
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import httpx

__all__ = ["FILTER", "MASK", "Redactor", "install_log_filter", "redact_body", "redactor_for", "register"]

MASK: Final = "[secure]"
MIN_PIECE: Final = 8  # a run of this many characters of the key is masked wherever it appears
MIN_SECRET: Final = 4  # shorter values cannot be masked without masking ordinary text
# The documented key prefixes are public (they appear in docs and in every key): a run of the key that
# lies wholly inside one says nothing about the key, and masking it would mask ordinary text.
PUBLIC_PREFIXES: Final = ("sk_sandbox_", "sk_live_")

# Every logger that formats server data during a call of ours (httpcore logs under its children only,
# and a logger's filters do not see records propagated from its children).
LOGGERS: Final = (
    "fedapay_payouts",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class Redactor:
    """Masks one secret, whole or in pieces, in any text."""

    __slots__ = ("__weakref__", "_folded_guards", "_forms", "_guards", "_mask", "_public")

    def __init__(self, secret: str, mask: str = MASK) -> None:
        self._mask = mask
        forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret, safe="")}
        self._forms = tuple(form for form in forms if len(form) >= MIN_SECRET)
        self._public = next((len(p) for p in PUBLIC_PREFIXES if secret.startswith(p) and len(secret) > len(p)), 0)
        # Any piece of MIN_PIECE characters or more contains one of these windows: a cheap first test.
        self._guards = tuple(
            {form[i : i + MIN_PIECE] for form in self._forms for i in self._offsets(form, MIN_PIECE)}
        )
        self._folded_guards = tuple({guard.casefold() for guard in self._guards})

    def _offsets(self, form: str, width: int) -> range:
        """Where a window of `width` may start in `form` without lying wholly inside the public prefix."""
        first = max(0, self._public - width + 1) if form.startswith(PUBLIC_PREFIXES) else 0
        return range(min(first, max(0, len(form) - width)), max(1, len(form) - width + 1))

    def shows_folded(self, text: str) -> bool:
        """Whether `text` holds a piece of the secret in any case (a header name: httpx lowercases them)."""
        folded = text.casefold()
        return any(map(folded.__contains__, self._folded_guards))

    def redact(self, text: str) -> str:
        """`text` with every run of 8+ characters of the secret (or all of a shorter secret) replaced by the mask."""
        if not any(map(text.__contains__, self._guards)):  # the common case, at C speed
            return text
        masked = [False] * len(text)
        for form in self._forms:
            width = min(MIN_PIECE, len(form))
            for offset in self._offsets(form, width):
                window = form[offset : offset + width]
                found = text.find(window)
                while found != -1:
                    start, end = _extend(text, form, found, offset, width)
                    masked[start:end] = [True] * (end - start)
                    found = text.find(window, found + 1)
        parts: list[str] = []
        index = 0
        while index < len(text):
            if masked[index]:
                while index < len(text) and masked[index]:
                    index += 1
                parts.append(self._mask)
            else:
                start = index
                while index < len(text) and not masked[index]:
                    index += 1
                parts.append(text[start:index])
        return "".join(parts)


def _extend(text: str, form: str, found: int, offset: int, width: int) -> tuple[int, int]:
    """The longest run around text[found:found+width] (== form[offset:offset+width]) that follows `form`."""
    start, left = found, offset
    while start > 0 and left > 0 and text[start - 1] == form[left - 1]:
        start -= 1
        left -= 1
    end, right = found + width, offset + width
    while end < len(text) and right < len(form) and text[end] == form[right]:
        end += 1
        right += 1
    return start, end


# secret -> its Redactor, for as long as a client holds that Redactor (clients live in any thread).
_LIVE: Final[weakref.WeakValueDictionary[str, Redactor]] = weakref.WeakValueDictionary()
_LOCK: Final = threading.Lock()


def register(secret: str) -> Redactor:
    """The Redactor of a client's key; the log filter masks the key while the client holds it."""
    with _LOCK:
        redactor = _LIVE.get(secret)
        if redactor is None:
            redactor = Redactor(secret)
            _LIVE[secret] = redactor
    install_log_filter()
    return redactor


def _live() -> list[Redactor]:
    with _LOCK:
        return list(_LIVE.values())


def redactor_for(request: httpx.Request) -> Redactor | None:
    """The Redactor of the key a request carries (its bearer token), if it carries one."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() != "bearer ":
        return None
    secret = auth[7:]
    if len(secret) < MIN_SECRET:
        return None
    with _LOCK:
        known = _LIVE.get(secret)
    return known or Redactor(secret)


def redact(text: str, request: httpx.Request | None) -> str:
    """`text` without the key of `request` nor of any live client."""
    if request is not None:
        redactor = redactor_for(request)
        if redactor is not None:
            text = redactor.redact(text)
    for redactor in _live():
        text = redactor.redact(text)
    return text


def redact_body(response: httpx.Response) -> None:
    """Mask the key in a reply's body, in place: the reply an exception carries (`.response`) shows what the
    server sent, and a hostile server may have echoed the key there. Bytes are read as Latin-1 (lossless; the key
    is ASCII) so a body that is not UTF-8 is masked too. Only replies that become errors are scanned."""
    try:
        body = response.content
    except Exception:  # noqa: BLE001 - a body never read (over the size limit): nothing of it to show
        return
    if not body:
        return
    text = body.decode("latin-1")
    clean = redact(text, response.request)
    clean = _redact_json(clean.encode("latin-1", errors="replace"), response.request) or clean
    if clean == text:
        return
    response._content = clean.encode("latin-1", errors="replace")
    response.__dict__.pop("_text", None)  # httpx caches the decoded text


def _redact_json(body: bytes, request: httpx.Request) -> str | None:
    """A JSON body written again with the key masked in its strings, when only decoding shows the key (a server
    writing it in `\\u` escapes); None when there is nothing to mask or the body is not JSON."""
    from ._json import dumps, loads  # here: importing the package loads no JSON codec (only an error reply does)

    try:
        document = loads(body)  # nesting past its depth limit is a ValueError too
    except ValueError:
        return None
    changed = False

    def clean(value: object) -> object:
        nonlocal changed
        if isinstance(value, str):
            masked = redact(value, request)
            changed = changed or masked != value
            return masked
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {clean(key): clean(item) for key, item in value.items()}
        return value

    cleaned = clean(document)
    return dumps(cleaned).decode("latin-1") if changed else None  # the bytes as they are (UTF-8), as above


class _RedactingFilter(logging.Filter):
    """Rewrites a record whose message (or traceback text) shows a live client's key."""

    def filter(self, record: logging.LogRecord) -> bool:
        redactors = _live()
        if not redactors:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is withheld, not shown raw
            record.msg, record.args = "[log record withheld: its message could not be formatted]", None
            return True
        clean = message
        for redactor in redactors:
            clean = redactor.redact(clean)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for redactor in redactors:
                record.exc_text = redactor.redact(record.exc_text)
        return True


FILTER: Final = _RedactingFilter()


def install_log_filter() -> None:
    """Put the redacting filter on every logger that formats server data during our calls (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
