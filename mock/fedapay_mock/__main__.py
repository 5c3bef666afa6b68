"""`python -m fedapay_mock`."""

import sys

from .cli import main

sys.exit(main())
