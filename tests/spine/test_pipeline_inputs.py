"""What regenerate reads from a maintainer's tree: scalars as the spec means them, overlays by their numbered
names, a failure that never leaves an old report saying "up to date", and a drift gate that compares bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import regenerate

from tests.spine.spine_support import edit_page
from tests.spine.spine_support import regenerate as run_regenerate

ROOT = Path(__file__).resolve().parents[2]
COUNTRY = "                        country:\n                          type: string\n"
CREATED_AT = "                  created_at:\n                    type: string\n                    format: date-time\n"


def test_a_timestamp_example_and_a_country_called_no_stay_strings_through_the_pipeline(project_copy: Path) -> None:
    edit_page(project_copy, COUNTRY, COUNTRY + "                          enum: [bj, tg, sn, no]\n")
    edit_page(project_copy, CREATED_AT, CREATED_AT + "                    example: 2024-01-15T10:00:00Z\n")

    result = run_regenerate("--root", str(project_copy), "--accept-breaking", "country is one of bj, tg, sn, no")

    assert result.returncode == 0, result.stdout + result.stderr
    packaged = json.loads(
        (project_copy / "generated/fedapay_payouts_api/openapi.json").read_text(encoding="utf-8")
    )
    schemas = packaged["components"]["schemas"]
    assert schemas["PhoneNumber"]["properties"]["country"]["enum"] == ["bj", "tg", "sn", "no"]
    assert schemas["Payout"]["properties"]["created_at"]["example"] == "2024-01-15T10:00:00Z"
    enum_module = (project_copy / "generated/fedapay_payouts_api/models/phone_number_country.py").read_text(
        encoding="utf-8"
    )
    assert '"no"' in enum_module
    assert "False" not in enum_module


def _write_stale_report(root: Path) -> Path:
    report = root / regenerate.REPORT
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"version": 1, "status": "up-to-date", "message": "up to date"}), encoding="utf-8")
    return report


def test_an_unexpected_exception_in_a_stage_is_a_one_line_failure_and_no_old_report_survives(
    project_copy: Path,
) -> None:
    report = _write_stale_report(project_copy)
    # A target JSONPath cannot parse: jsonpath_ng raises its own exception type inside the normalize stage.
    (project_copy / "spec/overlays/15-broken-path.yaml").write_text(
        "overlay: 1.0.0\ninfo: {title: broken, version: 1.0.0}\nactions:\n"
        "  - target: '$.[[[['\n    description: x\n    update: {x: 1}\n",
        encoding="utf-8",
    )

    result = run_regenerate("--root", str(project_copy), "--check")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "regenerate: FAILED: stage normalize (after it) failed: JsonPathParserError" in result.stderr
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["status"] == "failed"
    assert "JsonPathParserError" in written["message"]


@pytest.mark.parametrize(
    ("since", "named"),
    [
        ("no-such-ref", "--since no-such-ref: git archive failed"),
        ("--output=/tmp/x", "--since '--output=/tmp/x': not a git revision"),
    ],
    ids=["unknown-ref", "an-option"],
)
def test_a_since_that_fails_leaves_a_failed_report_naming_it(git_copy: Path, since: str, named: str) -> None:
    report = _write_stale_report(git_copy)

    result = run_regenerate("--check", "--root", str(git_copy), f"--since={since}")

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"regenerate: FAILED: {named}" in result.stderr
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["status"] == "failed"
    assert named in written["message"]
    assert len(written["failures"]) == 1
    assert named in written["failures"][0]


def test_a_duplicate_key_in_a_page_is_refused_naming_it(project_copy: Path) -> None:
    edit_page(project_copy, CREATED_AT, CREATED_AT + "                    type: integer\n")
    result = run_regenerate("--root", str(project_copy), "--check")
    assert result.returncode == 1
    assert "spec/source/create-payout.page.txt: fence 1: not valid YAML" in result.stderr
    assert "duplicate key 'type'" in result.stderr
def test_an_overlay_that_is_not_utf8_is_refused_naming_it(project_copy: Path) -> None:
    """Before, a Latin-1 overlay failed as a bare UnicodeDecodeError, no file named."""
    (project_copy / "spec/overlays/15-latin1.yaml").write_bytes(
        b'overlay: 1.1.0\ninfo: {title: x, version: "1"}\nactions:\n  - target: $.info\n    update: {x-a: "caf\xe9"}\n'
    )
    result = run_regenerate("--root", str(project_copy), "--check")
    assert result.returncode == 1
    assert "regenerate: FAILED: spec/overlays/15-latin1.yaml: not UTF-8 text" in result.stderr
    assert "UnicodeDecodeError" not in result.stderr + result.stdout




def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("", encoding="utf-8")


def test_overlays_apply_in_the_numeric_order_of_their_prefix(tmp_path: Path) -> None:
    _touch(tmp_path, "14-later.yaml", "2-early.yaml", "01-first.yaml", "100-last.yaml")
    assert [path.name for path in regenerate.overlay_files(tmp_path)] == [
        "01-first.yaml",
        "2-early.yaml",
        "14-later.yaml",
        "100-last.yaml",
    ]


@pytest.mark.parametrize(
    ("names", "refused"),
    [
        (["01-a.yaml", "15-cap-amount.yml"], "spec/overlays/15-cap-amount.yml: not an overlay"),
        (["01-a.yaml", "cap-amount.yaml"], "spec/overlays/cap-amount.yaml: not an overlay"),
        (["01-a.yaml", "01-a.yaml~"], "spec/overlays/01-a.yaml~: not an overlay"),
        (["01-a.yaml", ".02-b.yaml.swp"], "spec/overlays/.02-b.yaml.swp: not an overlay"),
        (["01-a.yaml", "1-b.yaml"], "spec/overlays/01-a.yaml, spec/overlays/1-b.yaml: the same number 1"),
    ],
)
def test_any_other_file_in_the_overlays_folder_is_refused_by_name(
    tmp_path: Path, names: list[str], refused: str
) -> None:
    folder = tmp_path / "spec/overlays"
    _touch(folder, *names)
    with pytest.raises(regenerate.PipelineError) as error:
        regenerate.overlay_files(folder)
    assert refused in str(error.value)


def test_the_committed_overlays_keep_their_order() -> None:
    found = [path.name for path in regenerate.overlay_files(ROOT / regenerate.OVERLAYS)]
    assert found == sorted(path.name for path in (ROOT / regenerate.OVERLAYS).iterdir())
    assert len(found) >= 14


def _crlf(root: Path) -> str:
    path = root / "spec/openapi.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    return "committed/spec/openapi.yaml: line endings differ (CRLF)"


def _executable(root: Path) -> str:
    path = root / "generated/fedapay_payouts_api/client.py"
    os.chmod(path, 0o755)
    return "committed/generated/fedapay_payouts_api/client.py: executable bit set, regenerated unset"


def _empty_extra(root: Path) -> str:
    (root / "generated/fedapay_payouts_api/models/payout.pyi").write_bytes(b"")
    return "committed/generated/fedapay_payouts_api/models/payout.pyi: exists (0 bytes) but is not generated"


def _cr_in_one_line(root: Path) -> str:
    path = root / "generated/fedapay_payouts_api/types.py"
    path.write_bytes(path.read_bytes().replace(b"# Generated by", b"# Generated\rby", 1))
    return "-# Generated\\rby openapi-python-client"  # the diff shows the CR


def test_the_drift_gate_compares_bytes_existence_and_the_executable_bit(project_copy: Path) -> None:
    # Four tamperings in one tree, one check (a regeneration each would cost a second apiece): each is named.
    said = [change(project_copy) for change in (_crlf, _executable, _empty_extra, _cr_in_one_line)]
    result = run_regenerate("--root", str(project_copy), "--check")
    assert result.returncode == 1, result.stdout + result.stderr
    for problem in said:
        assert problem in result.stdout
    assert "regenerate --check: spec/ or generated/ differ from their sources" in result.stdout


@pytest.mark.parametrize("name", ["15-cap amount.yaml", "15-cap\u202eamount.yaml", "15-cap+amount.yaml"])
def test_an_overlay_name_refusal_says_which_characters_a_name_may_have(tmp_path: Path, name: str) -> None:
    _touch(tmp_path, "01-a.yaml", name)
    with pytest.raises(regenerate.PipelineError) as error:
        regenerate.overlay_files(tmp_path)
    message = str(error.value)
    assert ": not an overlay: " in message
    assert "(letters, digits, '.', '_', '-')" in message
    assert message.isprintable()
