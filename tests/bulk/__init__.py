"""Tests of fedapay-payouts: bulk (a package: helpers are imported as tests.<folder>.<module>)."""
