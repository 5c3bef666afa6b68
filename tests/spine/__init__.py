"""Tests of fedapay-payouts: spine (a package: helpers are imported as tests.<folder>.<module>)."""
