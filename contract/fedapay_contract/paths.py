"""Where the packaged spec and config file are: found from the installed packages, never from the working directory.

Light on purpose (no schemathesis import), so `fedapay-contract --spec-path` answers on any install.
"""

from __future__ import annotations

from pathlib import Path


def _packaged_spec() -> Path:
    """The normalized spec inside the generated package (scripts/regenerate.py writes it with spec/openapi.yaml)."""
    import fedapay_payouts_api

    return Path(fedapay_payouts_api.__file__).resolve().with_name("openapi.json")


PACKAGE_DIR = Path(__file__).resolve().parent
SPEC_PATH = _packaged_spec()
CONFIG_PATH = PACKAGE_DIR / "schemathesis.toml"
