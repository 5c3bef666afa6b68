"""A page's control characters never reach the maintainer's terminal, the JSON report or CHANGELOG.md raw.

Before, an operationId like `get_receipt\\e[2J...\\rregenerate: up to date, nothing written\\n` was printed as is:
the ESC sequences cleared the screen and the carriage return faked regenerate's all-clear line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from printable import printable, printable_lines

from tests.spine.spine_support import edit_page, regenerate

# Every C0 control but the newline that ends a line, DEL and the C1 controls (0x9b is a one-byte CSI).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
HOSTILE_ID = r"get_receipt\e]0;pwned\a\e[2J\e[31mRED\x9b2J\rregenerate: up to date, nothing written\n"
SHOWN_ID = r"get_receipt\x1b]0;pwned\x07\x1b[2J\x1b[31mRED\u009b2J\x0dregenerate: up to date, nothing written\x0a"
RECEIPT_PAGE = f"""# Get a payout's receipt

```yaml
openapi: 3.0.0
paths:
  /payouts/{{id}}/receipt:
    get:
      operationId: "{HOSTILE_ID}"
      tags: [payouts]
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: integer
      responses:
        '200':
          description: "ok"
```
"""
MODE = "                mode:\n                  type: string\n"


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in (str(key), *_strings(value))]
    if isinstance(node, list):
        return [text for item in node for text in _strings(item)]
    return [node] if isinstance(node, str) else []


def _report(root: Path) -> dict[str, Any]:
    return json.loads((root / "build/regenerate-report.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_printable_escapes_every_control_character_and_keeps_the_rest() -> None:
    assert printable("a\x00b\tc\nd\re\x1bf\x7fg\x85h\x9bi\ud800j") == (
        "a\\x00b\\x09c\\x0ad\\x0de\\x1bf\\x7fg\\u0085h\\u009bi\\ud800j"
    )
    assert printable_lines("one\x1b[2J\ntwo\r\n") == "one\\x1b[2J\ntwo\\x0d\n"
    assert printable("Créer un paiement → 5 000 F CFA") == "Créer un paiement → 5 000 F CFA"
    assert printable(printable("\x1b")) == "\\x1b"  # escaping twice changes nothing more


def test_an_operation_id_with_escape_sequences_is_refused_in_one_escaped_line(git_copy: Path) -> None:
    """Since the eleventh review a page's control and format characters are refused at extract time (they reached
    the committed spec and generated code raw); the refusal itself is one line, escaped. Before: the operation
    was added and printed escaped."""
    (git_copy / "spec/source/receipt.page.txt").write_text(RECEIPT_PAGE, encoding="utf-8")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    assert RAW_CONTROL.search(result.stdout + result.stderr) is None
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("regenerate: FAILED")]
    assert failed.startswith(
        "regenerate: FAILED: spec/source/receipt.page.txt: fence 1: /paths/~1payouts~1{id}~1receipt/get/operationId: "
        f"the value `{SHOWN_ID}` holds \\x1b, \\x07, \\u009b, \\x0d ("  # a newline is no fault in a text
    )
    report = _report(git_copy)
    assert not [text for text in _strings(report) if RAW_CONTROL.search(text)]
    assert report["status"] == "failed"


def test_a_pattern_with_control_characters_is_refused_escaped_and_nothing_is_recorded(git_copy: Path) -> None:
    edit_page(git_copy, MODE, MODE + '                  pattern: "^[a-z]+\\e\\x85$"\n')
    before = (git_copy / "CHANGELOG.md").read_text(encoding="utf-8")

    refused = regenerate("--root", str(git_copy), "--accept-breaking", "modes are letters")

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert RAW_CONTROL.search(refused.stdout + refused.stderr) is None
    assert "/properties/mode/pattern: the value `^[a-z]+\\x1b\\u0085$` holds \\x1b, \\u0085 (" in refused.stderr
    assert (git_copy / "CHANGELOG.md").read_text(encoding="utf-8") == before


def test_a_failures_upstream_diff_shows_a_pages_raw_control_characters_escaped(git_copy: Path) -> None:
    # A raw NEL (0x85, a C1 control YAML allows) in a description, and a bound the spec cannot take: the run
    # fails, printing the upstream diff, which quotes the page's text.
    amount = "                  amount:\n                    type: integer\n"
    edit_page(git_copy, amount, amount + '                    minLength: -1\n                    title: "a\x85b"\n')

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    assert RAW_CONTROL.search(result.stderr) is None
    assert '+                    title: "a\\u0085b"' in result.stderr.splitlines()
    assert RAW_CONTROL.search(_report(git_copy)["upstream_diff"]) is None
