"""`python -m fedapay_contract`: the same as the `fedapay-contract` command."""

import sys

from fedapay_contract.cli import main

sys.exit(main())
