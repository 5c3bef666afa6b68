"""fedapay_payouts: a FedaPay payouts client that can never pay twice.

The typed models come from the generated package `fedapay_payouts_api` (never edited by hand);
this package adds what moving money needs: the real wire format, errors, safe retries,
timeouts and configuration.

`import fedapay_payouts` loads only the clients, errors and configuration; the generated models,
the payouts resource and the webhook helpers load on first use (they are about half of the import
time of httpx itself).
"""

from typing import TYPE_CHECKING, Any

from ._client import AsyncFedaPay, FedaPay
from ._config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, LIVE_BASE_URL, NOT_GIVEN, SANDBOX_BASE_URL, NotGiven
from ._deadline import DEFAULT_DEADLINE
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FedaPayError,
    InternalServerError,
    InvalidArgumentError,
    NotFoundError,
    PayoutOutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from ._reply import DEFAULT_MAX_RESPONSE_BYTES
from ._retry import RetryPolicy
from ._types import (
    PAYOUT_MODES,
    PAYOUT_STATUSES,
    CustomerParams,
    CustomerRefParams,
    PayoutMode,
    PayoutStatus,
    PhoneNumberParams,
    StartItem,
)

if TYPE_CHECKING:
    from fedapay_payouts_api.models.customer_input import CustomerInput as CustomerInput
    from fedapay_payouts_api.models.customer_ref import CustomerRef as CustomerRef
    from fedapay_payouts_api.models.list_meta import ListMeta as ListMeta
    from fedapay_payouts_api.models.payout import Payout as Payout
    from fedapay_payouts_api.models.phone_number import PhoneNumber as PhoneNumber

    from ._pagination import PayoutPage as PayoutPage
    from ._payouts import AsyncPayouts as AsyncPayouts
    from ._payouts import Payouts as Payouts
    from ._raw import RawResponse as RawResponse
    from ._webhooks import SIGNATURE_HEADER as SIGNATURE_HEADER
    from ._webhooks import WebhookEvent as WebhookEvent
    from ._webhooks import WebhookVerifier as WebhookVerifier
    from ._webhooks import construct_webhook_event as construct_webhook_event
    from ._webhooks import verify_webhook_signature as verify_webhook_signature

from ._version import __version__ as __version__

_LAZY = {
    "CustomerInput": "fedapay_payouts_api.models.customer_input",
    "CustomerRef": "fedapay_payouts_api.models.customer_ref",
    "ListMeta": "fedapay_payouts_api.models.list_meta",
    "Payout": "fedapay_payouts_api.models.payout",
    "PhoneNumber": "fedapay_payouts_api.models.phone_number",
    "PayoutPage": "fedapay_payouts._pagination",
    "AsyncPayouts": "fedapay_payouts._payouts",
    "Payouts": "fedapay_payouts._payouts",
    "RawResponse": "fedapay_payouts._raw",
    "SIGNATURE_HEADER": "fedapay_payouts._webhooks",
    "WebhookEvent": "fedapay_payouts._webhooks",
    "WebhookVerifier": "fedapay_payouts._webhooks",
    "construct_webhook_event": "fedapay_payouts._webhooks",
    "verify_webhook_signature": "fedapay_payouts._webhooks",
}


# Not for type checkers: a module `__getattr__` they can see makes every misspelled name of the package
# `Any` (`from ... import PayoutOutcomeUnknowError` would pass mypy --strict); the TYPE_CHECKING imports
# above declare every lazy name.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'fedapay_payouts' has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LIVE_BASE_URL",
    "NOT_GIVEN",
    "PAYOUT_MODES",
    "PAYOUT_STATUSES",
    "SANDBOX_BASE_URL",
    "SIGNATURE_HEADER",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncFedaPay",
    "AsyncPayouts",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CustomerInput",
    "CustomerParams",
    "CustomerRef",
    "CustomerRefParams",
    "FedaPay",
    "FedaPayError",
    "InternalServerError",
    "InvalidArgumentError",
    "ListMeta",
    "NotFoundError",
    "NotGiven",
    "Payout",
    "PayoutMode",
    "PayoutOutcomeUnknownError",
    "PayoutPage",
    "PayoutStatus",
    "Payouts",
    "PermissionDeniedError",
    "PhoneNumber",
    "PhoneNumberParams",
    "RateLimitError",
    "RawResponse",
    "RetryPolicy",
    "StartItem",
    "UnprocessableEntityError",
    "WebhookEvent",
    "WebhookVerificationError",
    "WebhookVerifier",
    "__version__",
    "construct_webhook_event",
    "verify_webhook_signature",
]
