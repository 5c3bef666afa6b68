"""Issue 15, item 5: what `import fedapay_payouts` and a first model use load, in a fresh interpreter.

`import fedapay_payouts` loads neither a generated model nor orjson (the JSON codec loads with the first
client); `fedapay_payouts.Payout` loads the payout model and the models it holds, not the other
models of the package (`models/__init__.py` loads each on first use: spec/templates/models_init.py.jinja),
and every model is still there to import, by name, by `*` or in `dir()`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

MODELS = "fedapay_payouts_api.models"


def fresh(code: str) -> Any:
    """Run `code` in a new interpreter; what it prints as JSON on its last line."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_package_import_loads_no_model_and_no_json_codec() -> None:
    loaded = fresh("""
        import json, sys
        import fedapay_payouts
        print(json.dumps(sorted(sys.modules)))
    """)
    assert [name for name in loaded if name.startswith(MODELS + ".")] == []
    assert "orjson" not in loaded
    assert "fedapay_payouts._json" not in loaded


def test_a_first_model_use_loads_that_model_and_what_it_holds_only() -> None:
    loaded = fresh("""
        import json, sys
        import fedapay_payouts
        payout = fedapay_payouts.Payout.from_dict({
            "klass": "v1/payout", "id": 7, "reference": "r", "amount": 1000, "status": "pending", "customer_id": 1,
            "currency_id": 1, "mode": "mtn_open", "created_at": "2024-10-24T17:27:45.677Z",
            "updated_at": "2024-10-24T17:27:45.677Z",
        })
        assert payout.id == 7
        print(json.dumps(sorted(name for name in sys.modules if name.startswith("fedapay_payouts_api.models."))))
    """)
    assert f"{MODELS}.payout" in loaded
    assert f"{MODELS}.payout_list" not in loaded
    assert f"{MODELS}.start_payouts_request" not in loaded
    assert len(loaded) < 8  # the payout and its parts, of the package's 18


def test_every_model_can_still_be_imported_from_the_package() -> None:
    found = fresh("""
        import json
        import fedapay_payouts_api.models as models
        from fedapay_payouts_api.models import PayoutList
        star = {}
        exec("from fedapay_payouts_api.models import *", star)
        try:
            models.NoSuchModel
        except AttributeError as exc:
            missing = str(exc)
        print(json.dumps({
            "all": sorted(models.__all__), "star": sorted(k for k in star if k != "__builtins__"),
            "dir": all(name in dir(models) for name in models.__all__),
            "loaded": all(getattr(models, name) is not None for name in models.__all__),
            "same": PayoutList is models.payout_list.PayoutList, "missing": missing,
        }))
    """)
    assert len(found["all"]) == 18
    assert found["star"] == found["all"]
    assert found["dir"]
    assert found["loaded"]
    assert found["same"]
    assert found["missing"] == "module 'fedapay_payouts_api.models' has no attribute 'NoSuchModel'"
