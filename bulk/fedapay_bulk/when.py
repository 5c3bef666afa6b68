"""`--schedule-at` and the file's "scheduled at" column: the client's one parse of `scheduled_at`
(`fedapay_payouts._when`), for the checks and for the run.

A time without a zone is UTC, never this machine's local time. Every accepted form becomes one wire form,
UTC with a `Z` (`wire`), which the journal keeps and the run sends: what was checked is what is sent.
"""

from __future__ import annotations

from fedapay_payouts._when import parse_schedule, wire

__all__ = ["parse_schedule", "wire"]
