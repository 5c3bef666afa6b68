"""fedapay_mock: a FedaPay payouts mock server (to be built in issue 3)."""
