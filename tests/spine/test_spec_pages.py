"""Every page in spec/source/ is consumed (its fences merged) or refused: a dropped-in page is never ignored."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fedapay_mock import run_mock
from spec_pages import PageError, merge, read_pages, yaml_fences

from tests.spine.spine_support import CREATE_PAGE, git_status, regenerate

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer sk_sandbox_spine"}


def _create_fence() -> dict[str, Any]:
    (body,) = yaml_fences((ROOT / CREATE_PAGE).read_text(encoding="utf-8"), CREATE_PAGE.as_posix())
    return yaml.safe_load(body)  # type: ignore[no-any-return]


def page_with(paths: dict[str, Any], title: str = "Cancel a payout") -> str:
    """A FedaPay doc page as the create page is: prose, then the operation's OpenAPI YAML in a fence.
    Its top-level fields are the create page's (FedaPay renders every page from one document)."""
    document = _create_fence()
    document["paths"] = paths
    body = yaml.safe_dump(document, sort_keys=False)
    return f"# {title}\n\nSome prose.\n\n````yaml post\n{body}````\n\nMore prose.\n"


CANCEL = {
    "/payouts/{id}/cancel": {
        "post": {
            "summary": "Cancel a payout",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {
                    "description": "Payout cancelled.",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                        }
                    },
                }
            },
        }
    }
}


def test_a_new_page_with_a_new_operation_is_merged_and_reported(git_copy: Path) -> None:
    (git_copy / "spec/source/cancel-payout.page.txt").write_text(page_with(CANCEL), encoding="utf-8")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok       operation-added            POST /payouts/{id}/cancel: no operationId" in result.stdout
    spec = yaml.safe_load((git_copy / "spec/openapi.yaml").read_text(encoding="utf-8"))
    assert "/payouts/{id}/cancel" in spec["paths"]
    assert spec["paths"]["/payouts"]["post"]["operationId"] == "create_payout"  # the create page still counts
    header = (git_copy / "spec/openapi.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert "spec/extracted/cancel-payout.yaml, spec/extracted/create-payout.yaml" in header
    assert (git_copy / "spec/extracted/cancel-payout.yaml").is_file()
    assert "?? spec/source/cancel-payout.page.txt" in git_status(git_copy)
    # The mock serves the new spec: the operation it lacks answers 501, the others as before.
    with run_mock(spec_path=str(git_copy / "spec/openapi.yaml")) as mock:
        cancel = httpx.post(mock.base_url + "/payouts/1/cancel", headers=AUTH)
        listed = httpx.get(mock.base_url + "/payouts", headers=AUTH)
    assert cancel.status_code == 501
    assert "POST /payouts/{id}/cancel" in cancel.json()["message"]
    assert listed.status_code == 200


RETRIEVE_BY_OTHER_NAME = {
    "/payouts/{payout_id}": {
        "get": {
            "summary": "Retrieve a payout",
            "parameters": [{"name": "payout_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The payout."}},
        }
    }
}


def test_a_page_for_an_existing_path_under_another_parameter_name_is_refused_naming_both(git_copy: Path) -> None:
    # Before, both paths reached the spec (OpenAPI: they MUST NOT both exist) and the client gained a second
    # retrieve function, exit 0.
    page = git_copy / "spec/source/retrieve-payout.page.txt"
    page.write_text(page_with(RETRIEVE_BY_OTHER_NAME, "Retrieve a payout"), encoding="utf-8")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr.splitlines()
    assert err[:3] == [
        "regenerate: FAILED: spec/openapi.yaml: paths that are one path under other parameter names (OpenAPI: they"
        " MUST NOT both exist; a URL would match either):",
        "  /payouts/{id} (spec/overlays/07-payout-operations.yaml action 4) and /payouts/{payout_id}"
        " (spec/source/retrieve-payout.page.txt fence 1 at $.paths['/payouts/{payout_id}'])",
        "  keep one: name the parameter as the other path does (an overlay can `copy` the page's operations to that"
        " path, then `remove` the page's path)",
    ]
    assert "    ok       operation-added            GET /payouts/{payout_id}: no operationId" in result.stderr
    assert err[-1] == "regenerate: nothing was written."
    assert git_status(git_copy) == "?? spec/source/retrieve-payout.page.txt\n"


def test_a_page_without_a_fence_that_no_overlay_uses_fails_naming_it(git_copy: Path) -> None:
    (git_copy / "spec/source/refund-payout.page.txt").write_text(
        "PUT\n/\npayouts\n/\nrefund\n\nRefund a payout, rendered as text only.\n", encoding="utf-8"
    )

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1
    assert "spec/source/refund-payout.page.txt: no ```yaml fence and no overlay names it" in result.stderr
    assert "start-payouts" not in result.stderr  # the start page is carried by step 08
    assert git_status(git_copy) == "?? spec/source/refund-payout.page.txt\n"
    assert regenerate("--check", "--root", str(git_copy)).returncode == 1


def test_the_start_page_is_consumed_only_because_step_08_names_it(git_copy: Path) -> None:
    step = git_copy / "spec/overlays/08-start-payouts.yaml"
    step.write_text(
        step.read_text(encoding="utf-8").replace("  x-source-pages: [start-payouts.page.txt]\n", ""), encoding="utf-8"
    )

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1
    assert "spec/source/start-payouts.page.txt: no ```yaml fence" in result.stderr


def test_an_overlay_naming_a_page_that_is_gone_fails(git_copy: Path) -> None:
    (git_copy / "spec/source/start-payouts.page.txt").unlink()

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1
    assert "08-start-payouts.yaml: info.x-source-pages names start-payouts.page.txt, which is not in" in result.stderr


def test_pages_that_define_the_same_operation_differently_conflict_and_every_conflict_is_named(
    project_copy: Path,
) -> None:
    create = copy.deepcopy(_create_fence()["paths"])
    create["/payouts"]["post"]["summary"] = "Create a payout (v2)"
    (project_copy / "spec/source/create-payout-v2.page.txt").write_text(page_with(create | CANCEL), encoding="utf-8")
    other = project_copy / "spec/source/other.page.txt"
    other.write_text(page_with(CANCEL).replace("title: Customer API", "title: Payouts API"), encoding="utf-8")

    result = regenerate("--root", str(project_copy))

    assert result.returncode == 1
    err = result.stderr
    assert "POST /payouts: defined differently in create-payout-v2.page.txt and create-payout.page.txt" in err
    assert "`info` differs between create-payout-v2.page.txt and other.page.txt" in err
    assert "POST /payouts/{id}/cancel" not in err  # identical in both pages: not a conflict


def test_every_fence_of_a_page_is_read_and_merged(tmp_path: Path) -> None:
    first, second = _create_fence(), _create_fence()
    second["paths"] = CANCEL
    fences = "".join(f"````yaml\n{yaml.safe_dump(doc)}````\n\n" for doc in (first, second))
    (tmp_path / "spec/source").mkdir(parents=True)
    (tmp_path / "spec/source/two.page.txt").write_text(fences, encoding="utf-8")

    (page,) = read_pages(tmp_path)
    merged = merge([("a", yaml.safe_load(body)) for body in page.fences])

    assert len(page.fences) == 2
    assert set(merged["paths"]) == {"/payouts", "/payouts/{id}/cancel"}
    assert page.extracted_path == Path("spec/extracted/two.yaml")


def test_merge_refuses_nothing_to_merge() -> None:
    with pytest.raises(PageError):
        merge([])


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        # Before, any name was a page: `create-payout.txt` beside `create-payout.page.txt` was extracted to the
        # same file (refused then as a clash), and a newline in a name wrote a key of its own into spec/openapi.yaml.
        ("create-payout.txt", "create-payout.txt"),
        ("receipt\nx-injected: from a file\n#.page.txt", "receipt\\x0ax-injected: from a file\\x0a#.page.txt"),
        ("receipt\x1b[2J.page.txt", "receipt\\x1b[2J.page.txt"),
        ("re ceipt.page.txt", "re ceipt.page.txt"),
    ],
)
def test_a_page_whose_file_name_is_not_a_page_name_is_refused_in_one_line(
    tmp_path: Path, name: str, shown: str
) -> None:
    source = tmp_path / "spec/source"
    source.mkdir(parents=True)
    fence = f"````yaml\n{yaml.safe_dump(_create_fence())}````\n"
    (source / "create-payout.page.txt").write_text(fence, encoding="utf-8")
    (source / name).write_text(fence, encoding="utf-8")

    with pytest.raises(PageError) as refused:
        read_pages(tmp_path)

    assert str(refused.value) == (
        f"spec/source/{shown}: not a page name: name it like create-payout.page.txt "
        "(letters, digits, `.`, `_`, `-`, ending .page.txt)"
    )


def test_a_newline_in_a_page_name_never_reaches_the_spec(git_copy: Path) -> None:
    """Before, `receipt\\nx-injected: ...` became a top-level key of spec/openapi.yaml and of the mock's copy."""
    page = (git_copy / CREATE_PAGE).read_text(encoding="utf-8")
    (git_copy / CREATE_PAGE).unlink()
    hostile = git_copy / "spec/source/create-payout\nx-injected: from a file name\n#.page.txt"
    hostile.write_text(page, encoding="utf-8")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "not a page name" in line]
    assert line.startswith("regenerate: FAILED: spec/source/create-payout\\x0ax-injected: from a file name\\x0a#")
    assert "x-injected" not in (git_copy / "spec/openapi.yaml").read_text(encoding="utf-8")
    assert git_status(git_copy).splitlines()[0] == " D spec/source/create-payout.page.txt"


def test_a_page_that_is_not_utf8_is_refused_by_name(tmp_path: Path) -> None:
    source = tmp_path / "spec/source"
    source.mkdir(parents=True)
    (source / "latin1.page.txt").write_bytes("Créer un paiement".encode("latin-1"))

    with pytest.raises(PageError, match=r"latin1\.page\.txt: not UTF-8"):
        read_pages(tmp_path)


def test_since_refuses_an_option_instead_of_a_revision(project_copy: Path) -> None:
    result = regenerate("--check", "--root", str(project_copy), "--since=--output=/tmp/x")

    assert result.returncode == 1
    assert "not a git revision" in result.stderr


@pytest.mark.parametrize(
    ("opening", "closing", "indent"),
    [("```yml", "```", ""), ("```YAML", "```", ""), ("~~~yaml", "~~~", ""), ("   ```yaml", "   ```", "   "),
     ("  ~~~~Yml post /payouts/{id}/cancel", "  ~~~~~", "  ")],
    ids=["yml", "YAML", "tildes", "indented", "indented-tildes-longer-close"],
)
def test_each_spelling_of_a_yaml_fence_is_extracted(tmp_path: Path, opening: str, closing: str, indent: str) -> None:
    document = _create_fence()
    document["paths"] = CANCEL
    body = "".join(f"{indent}{line}" for line in yaml.safe_dump(document).splitlines(keepends=True))
    (tmp_path / "spec/source").mkdir(parents=True)
    page = f"# Cancel a payout\n\n{opening}\n{body}{closing}\n\nProse.\n"
    (tmp_path / "spec/source/cancel.page.txt").write_text(page, encoding="utf-8")

    (found,) = read_pages(tmp_path)

    assert [yaml.safe_load(fence)["paths"] for fence in found.fences] == [CANCEL]


@pytest.mark.parametrize("opening", ["```json", "```", "```text", "~~~openapi"])
def test_another_fenced_block_holding_openapi_is_refused_naming_the_page_and_line(tmp_path: Path, opening: str) -> None:
    create = yaml.safe_dump(_create_fence())
    cancel = json.dumps({"openapi": "3.0.0", "paths": CANCEL}) if "json" in opening else yaml.safe_dump(
        {"paths": CANCEL}
    )
    closing = opening[:3]
    page = f"# Two operations\n\n````yaml\n{create}````\n\nAnd:\n\n{opening}\n{cancel}\n{closing}\n"
    (tmp_path / "spec/source").mkdir(parents=True)
    (tmp_path / "spec/source/two.page.txt").write_text(page, encoding="utf-8")
    line = page[: page.index(f"\n{opening}\n") + 1].count("\n") + 1

    with pytest.raises(PageError) as refused:
        read_pages(tmp_path)

    expected = f"spec/source/two.page.txt: line {line}: the fenced block {opening!r} holds OpenAPI YAML"
    assert expected in str(refused.value)


def test_a_yaml_fence_never_closed_is_refused_and_other_blocks_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "spec/source").mkdir(parents=True)
    page = tmp_path / "spec/source/open.page.txt"
    example = '```json\n{"amount": 2000, "currency": {"iso": "XOF"}}\n```\n\n```sh\ncurl -X POST\n```\n'
    page.write_text(f"{example}\n````yaml\n{yaml.safe_dump(_create_fence())}```\n", encoding="utf-8")

    with pytest.raises(PageError, match=r"^spec/source/open\.page\.txt: line 9: the ````yaml fence is never closed"):
        read_pages(tmp_path)
    page.write_text(f"{example}\n````yaml\n{yaml.safe_dump(_create_fence())}````\n", encoding="utf-8")
    (found,) = read_pages(tmp_path)
    assert len(found.fences) == 1  # the JSON example and the shell block are prose, not OpenAPI


def test_a_yml_fence_on_a_page_reaches_the_spec(git_copy: Path) -> None:
    document = {"openapi": "3.0.0", "info": _create_fence()["info"], "paths": CANCEL}
    page = git_copy / CREATE_PAGE
    page.write_text(page.read_text(encoding="utf-8") + f"\n\n## Cancel\n\n```yml\n{yaml.safe_dump(document)}```\n",
                    encoding="utf-8")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "operation-added            POST /payouts/{id}/cancel" in result.stdout
    assert "/payouts/{id}/cancel" in (git_copy / "spec/openapi.yaml").read_text(encoding="utf-8")
