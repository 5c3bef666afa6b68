"""Tests of fedapay-payouts: mock (a package: helpers are imported as tests.<folder>.<module>)."""
