"""fedapay_payouts: a FedaPay payouts client that can never pay twice.

The typed models come from the generated package `fedapay_payouts_api` (never edited by hand);
this package adds what moving money needs: the real wire format, errors, safe retries,
timeouts and configuration.
"""

from fedapay_payouts_api.models import ListMeta, Payout, PayoutList, PayoutStartReply

__version__ = "0.1.0"

__all__ = ["ListMeta", "Payout", "PayoutList", "PayoutStartReply", "__version__"]
