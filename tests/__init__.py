"""Tests of fedapay-payouts (a package: helpers are imported as tests.<folder>.<module>)."""
