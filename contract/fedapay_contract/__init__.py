"""fedapay_contract: FedaPay's payouts contract as a schemathesis suite, shipped with the client.

`fedapay-contract --mock` runs it against the embedded mock, `fedapay-contract --base-url URL` against
any server (FedaPay's sandbox, your own); see contract_tests/README.md. It needs the `contract` extra
(`pip install 'fedapay-payouts[contract]'`, plus `mock` for `--mock`). The modules: `suite` (the runner),
`checks` (FedaPay's own check), `isolated` (a run in a process of its own), `tuning` (less CPU for the
same cases), `summary` and `junit` (reports),
`cli` (the command). Nothing is imported here, so the package loads without the extra.
"""
