"""The regenerate command: a spec change flows through, the drift gate has teeth, output is deterministic."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

import regenerate

from tests.spine.spine_support import edit_page, git, git_status, regenerate_process
from tests.spine.spine_support import regenerate as run_regenerate

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_regenerate(*args)


def test_a_field_added_upstream_reaches_the_generated_model(project_copy: Path) -> None:
    page = project_copy / "spec/source/create-payout.page.txt"
    text = page.read_text(encoding="utf-8")
    anchor = "                  balance_id:\n"
    assert anchor in text
    added = (
        "                  beneficiary_note:\n                    type: string\n                    description: New.\n"
    )
    page.write_text(text.replace(anchor, added + anchor, 1), encoding="utf-8")

    result = _run("--root", str(project_copy))

    assert result.returncode == 0, result.stderr
    model = (project_copy / "generated/fedapay_payouts_api/models/payout.py").read_text(encoding="utf-8")
    assert "beneficiary_note: str | Unset" in model
    assert "beneficiary_note" in (project_copy / "spec/openapi.yaml").read_text(encoding="utf-8")
    committed = (ROOT / "generated/fedapay_payouts_api/models/payout.py").read_text(encoding="utf-8")
    assert "beneficiary_note" not in committed


def test_check_passes_on_the_committed_tree_and_reports_timings() -> None:
    result = regenerate_process("--check")  # the command itself, as CI runs it
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
    for stage in ("extract", "normalize", "validate", "generate+format", "total"):
        assert stage in result.stdout


def test_check_fails_on_a_hand_edit_of_generated_code(project_copy: Path) -> None:
    model = project_copy / "generated/fedapay_payouts_api/models/payout.py"
    model.write_text(model.read_text(encoding="utf-8").replace("amount: int", "amount: float", 1), encoding="utf-8")

    result = regenerate_process("--check", "--root", str(project_copy))  # CI's drift gate: the command's exit status

    assert result.returncode == 3  # stale, and undoing the edit changes the surface: reported as breaking
    assert "spec/ or generated/ differ from their sources" in result.stdout
    assert "BREAKING fedapay_payouts_api.models.payout.Payout.amount: float -> int" in result.stdout
    assert "committed/generated/fedapay_payouts_api/models/payout.py" in result.stdout
    assert "-    amount: float" in result.stdout


def test_a_template_edited_between_two_runs_in_one_process_is_compiled_again(project_copy: Path) -> None:
    """Compiled templates are kept for the process (`_CompiledTemplates`): a run after an edit of one of
    ours must render the edit, not the code compiled before it."""
    assert _run("--check", "--root", str(project_copy)).returncode == 0  # compiles and keeps every template
    template = project_copy / "spec/templates/models_init.py.jinja"
    text = template.read_text(encoding="utf-8")
    old = '""" Contains all the data models used in inputs/outputs, each loaded on first use """'
    assert old in text
    template.write_text(text.replace(old, '""" Edited between two runs """'), encoding="utf-8")

    result = _run("--check", "--root", str(project_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    assert '+"""Edited between two runs"""' in result.stdout  # as ruff formats it
    template.write_text(text, encoding="utf-8")  # and back: the first compilation serves again
    assert _run("--check", "--root", str(project_copy)).returncode == 0


def test_check_fails_on_a_stray_generated_file_and_a_stale_spec(project_copy: Path) -> None:
    (project_copy / "generated/fedapay_payouts_api/models/extra.py").write_text("x = 1\n", encoding="utf-8")
    spec = project_copy / "spec/openapi.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "x-stale: true\n", encoding="utf-8")

    result = _run("--check", "--root", str(project_copy))

    assert result.returncode == 3
    assert "spec/ or generated/ differ from their sources" in result.stdout
    assert "committed/generated/fedapay_payouts_api/models/extra.py" in result.stdout
    assert "-x-stale: true" in result.stdout


def test_check_refuses_anything_in_generated_besides_the_package_and_a_run_removes_it(project_copy: Path) -> None:
    # generated/ is on sys.path ahead of overrides/: a stray `fedapay_payouts` package there would be imported instead.
    generated = project_copy / "generated"
    (generated / "fedapay_payouts").mkdir()
    (generated / "fedapay_payouts/__init__.py").write_text("SHADOW = True\n", encoding="utf-8")
    (generated / "fedapay_payouts_api_extra.py").write_text("x = 1\n", encoding="utf-8")
    (generated / ".gitkeep").write_text("", encoding="utf-8")
    (generated / "empty").mkdir()
    (generated / "linked").symlink_to(project_copy / "overrides/fedapay_payouts", target_is_directory=True)

    result = _run("--check", "--root", str(project_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    for stray in ("fedapay_payouts/__init__.py", "fedapay_payouts_api_extra.py", ".gitkeep"):
        assert f"committed/generated/{stray}: exists (" in result.stdout
    assert "committed/generated/empty: exists (a folder with nothing in it) but is not generated" in result.stdout
    assert "committed/generated/linked: exists (a symbolic link) but is not generated" in result.stdout

    assert _run("--root", str(project_copy)).returncode == 0
    assert sorted(path.name for path in generated.iterdir()) == ["fedapay_payouts_api"]
    assert (project_copy / "overrides/fedapay_payouts/__init__.py").exists()  # the link went, not its target
    assert _run("--check", "--root", str(project_copy)).returncode == 0


def test_two_regenerations_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    one = regenerate.build(ROOT, first)
    two = regenerate.build(ROOT, second)
    assert one.files == two.files
    _assert_same(filecmp.dircmp(one.package, two.package))
    # and identical to what is committed
    assert one.files[regenerate.NORMALIZED] == (ROOT / "spec/openapi.yaml").read_text(encoding="utf-8")
    assert regenerate.diff(one, ROOT) == []


def _assert_same(comparison: filecmp.dircmp[str]) -> None:
    assert not comparison.left_only, comparison.left_only
    assert not comparison.right_only, comparison.right_only
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    assert not mismatch, mismatch
    assert not errors, errors
    for sub in comparison.subdirs.values():
        _assert_same(sub)


def test_every_generated_file_says_so_in_its_first_line() -> None:
    files = sorted((ROOT / "generated").rglob("*.py"))
    assert len(files) > 20
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Generated by openapi-python-client"), path
    assert (ROOT / "spec/openapi.yaml").read_text(encoding="utf-8").startswith("# Generated from ")


def test_vanished_targets_report_every_action_and_the_upstream_diff_and_write_nothing(git_copy: Path) -> None:
    # Two upstream renames, each under a different overlay step.
    edit_page(git_copy, "                  balance_id:\n", "                  balance:\n")
    edit_page(git_copy, "\n                mode:\n", "\n                payout_mode:\n")
    edit_page(git_copy, "                - mode\n", "                - payout_mode\n")
    # A change that does not trip any overlay: without the atomic write it would land in spec/extracted/.
    edit_page(git_copy, "Payout created successfully.", "Payout created.")

    result = run_regenerate("--root", str(git_copy))

    assert result.returncode == 1
    err = result.stderr
    assert "03-payout-as-sent.yaml: action 14: target $.components.schemas.Payout.properties.balance_id" in err
    assert "04-create-request-rules.yaml: action 3: target $.components.schemas.PayoutCreate.properties.mode" in err
    assert "-                mode:\n+                payout_mode:\n" in err  # the upstream diff, extracted YAML
    assert "--- committed/spec/extracted/create-payout.yaml" in err
    assert "nothing was written" in err
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_a_failure_after_generation_starts_leaves_the_tree_untouched(git_copy: Path) -> None:
    """Invalid OpenAPI (found by validate, while the generator runs) stops the run before any write."""
    broken = git_copy / "spec/overlays/99-invalid.yaml"
    broken.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\n"
        "actions:\n  - target: $.paths['/payouts'].post\n    update: {responses: {'201': {content: 7}}}\n",
        encoding="utf-8",
    )
    git(git_copy, "add", "-A")
    git(git_copy, "commit", "-q", "-m", "broken step")
    edit_page(git_copy, "Payout created successfully.", "Payout created.")

    result = run_regenerate("--root", str(git_copy))

    assert result.returncode == 1
    assert "is not valid OpenAPI" in result.stderr
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_a_broken_generator_config_fails_naming_it_and_writes_nothing(git_copy: Path) -> None:
    """The generator runs in regenerate's own process: its failures still end the run with a named error."""
    (git_copy / "spec/generator.yaml").write_text("class_overrides: [not, a, mapping]\n", encoding="utf-8")
    git(git_copy, "commit", "-q", "-am", "broken generator config")
    edit_page(git_copy, "Payout created successfully.", "Payout created.")

    result = run_regenerate("--root", str(git_copy))

    assert result.returncode == 1
    assert "spec/generator.yaml: not a valid openapi-python-client config" in result.stderr
    assert "nothing was written" in result.stderr
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"
