"""Tests of fedapay-payouts: client (a package: helpers are imported as tests.<folder>.<module>)."""
