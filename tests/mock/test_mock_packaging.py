"""The mock as users get it: console script, `python -m`, pytest fixtures, packaged spec, lazy imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
from fedapay_mock import MockServer, run_mock
from fedapay_mock.handlers import HANDLERS
from fedapay_mock.spec import PACKAGED_SPEC, REPO_SPEC, default_spec_path, load_spec

from tests.mock.mock_support import AUTH, payout_body
from tests.mock.mock_support_process import MockProcess

REPO = Path(__file__).resolve().parents[2]


def test_the_packaged_spec_is_the_repositorys_spec() -> None:
    assert REPO_SPEC == REPO / "spec" / "openapi.yaml"
    assert PACKAGED_SPEC.read_bytes() == REPO_SPEC.read_bytes(), (
        "mock/fedapay_mock/openapi.yaml is stale: run scripts/regenerate.py"
    )
    # Changed on purpose (issue 13): the packaged copy even in a checkout, so an install never reads a user's spec/.
    assert default_spec_path() == PACKAGED_SPEC


DECOY_SPEC = "openapi: 3.1.0\ninfo: {title: a user's own API, version: '1'}\npaths: {}\n"


def test_an_installed_mock_loads_its_packaged_spec_not_the_user_projects_spec_openapi_yaml(tmp_path: Path) -> None:
    """As after `pip install --target .deps`: the package sits two folders below the user's project root, which
    has its own spec/openapi.yaml; the mock must serve FedaPay's spec, unless given a spec_path."""
    project = tmp_path / "project"
    (project / "spec").mkdir(parents=True)
    (project / "spec" / "openapi.yaml").write_text(DECOY_SPEC, encoding="utf-8")
    installed = project / ".deps" / "fedapay_mock"
    shutil.copytree(PACKAGED_SPEC.parent, installed, ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "import json, sys; from fedapay_mock.spec import default_spec_path, load_spec\n"
        "print(default_spec_path()); print(json.dumps(sorted(op.operation_id for op in load_spec().operations)))\n"
        "print(load_spec(sys.argv[1]).document['info']['title'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(project / ".deps")}
    decoy = str(project / "spec" / "openapi.yaml")
    done = subprocess.run(
        [sys.executable, "-c", code, decoy], capture_output=True, text=True, check=True, cwd=project, env=env,
        timeout=60,
    )
    path, operations, told = done.stdout.splitlines()
    assert Path(path) == installed / "openapi.yaml"
    assert json.loads(operations) == sorted(HANDLERS)
    assert told == "a user's own API"  # told otherwise, it reads the file it is given


def test_every_operation_of_the_spec_is_served() -> None:
    spec = load_spec()
    assert {op.operation_id for op in spec.operations} == set(HANDLERS)
    assert len(spec.operations) == 7  # FedaPay's six reference operations plus list (search added by step 12)


def test_a_spec_with_an_operation_the_mock_lacks_still_starts_and_answers_501_for_it(tmp_path: Path) -> None:
    """Changed on purpose (issue 11): refusing to start made every fixture and the contract suite error."""
    text = REPO_SPEC.read_text().replace("operationId: list_payouts", "operationId: list_everything")
    changed = tmp_path / "openapi.yaml"
    changed.write_text(text)
    with run_mock(spec_path=str(changed)) as mock:
        listed = httpx.get(mock.base_url + "/payouts", headers=AUTH)
        created = httpx.post(mock.base_url + "/payouts", json=payout_body(), headers=AUTH)
        stats = mock.stats()
    assert listed.status_code == 501
    assert listed.json()["message"] == "The mock does not implement list_everything (GET /payouts) yet."
    problem = "list_everything is in the spec but has no handler in fedapay_mock"
    assert listed.json()["errors"] == {"operation": [problem]}
    assert created.status_code == 201
    assert stats["not_implemented"] == ["list_everything"]


def test_the_console_script_serves_v1_and_honours_api_key_from_the_environment() -> None:
    os.environ["FEDAPAY_MOCK_API_KEY"] = "sk_sandbox_from_env"
    try:
        with MockProcess() as mock:
            ok = httpx.get(mock.base_url + "/payouts", headers={"Authorization": "Bearer sk_sandbox_from_env"})
            other = httpx.get(mock.base_url + "/payouts", headers=AUTH)
            assert (ok.status_code, other.status_code) == (200, 401)
            assert ok.json()["meta"]["total_count"] == 0
    finally:
        del os.environ["FEDAPAY_MOCK_API_KEY"]
    assert mock.process.returncode is not None
    assert b"serving http://127.0.0.1:" in mock.stderr
    assert b"sk_sandbox_from_env" not in mock.stderr


def test_python_dash_m_serves_the_same(tmp_path: Path) -> None:
    with MockProcess("--settle-seconds", "0", module=True) as mock:
        reply = httpx.post(mock.base_url + "/payouts", json=payout_body(), headers=AUTH)
        assert reply.json()["v1/payout"]["id"] == 1


def test_bad_cli_options_exit_with_a_message() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fedapay_mock", "--api-key", "not-a-key-secret42"], capture_output=True, timeout=30
    )
    assert done.returncode == 2
    assert b"api_key must look like" in done.stderr
    assert b"secret42" not in done.stderr


def test_the_pytest_fixtures_yield_a_reset_server(fedapay_mock: MockServer) -> None:
    assert fedapay_mock.base_url == fedapay_mock.root_url + "/v1"
    assert fedapay_mock.base_url.startswith("http://127.0.0.1:")
    assert fedapay_mock.stats()["payouts_total"] == 0
    reply = httpx.post(fedapay_mock.base_url + "/payouts", json=payout_body(), headers=AUTH)
    assert reply.status_code == 201
    assert fedapay_mock.stats()["created"] == 1


def test_the_session_fixture_is_the_same_server(fedapay_mock_server: MockServer, fedapay_mock: MockServer) -> None:
    assert fedapay_mock is fedapay_mock_server
    assert fedapay_mock.stats()["created"] == 0  # reset again for this test


# A user's project: `a/` and `c/` override the options (a MockOptions, an equal dict), `b/` does not; each test
# records which server it got. Run a, b, c in that order: b after an override, c after b.
OVERRIDE_A = "from fedapay_mock import MockOptions\n\n@pytest.fixture(scope='session')\ndef fedapay_mock_options():\n"
FOLDERS = {
    "a": OVERRIDE_A + "    return MockOptions(max_payouts_per_number=None)\n",
    "b": None,
    "c": "@pytest.fixture(scope='session')\ndef fedapay_mock_options():\n    return {'max_payouts_per_number': None}\n",
}
RECORD = (
    "import os\n\ndef test_{name}(fedapay_mock):\n"
    "    with open(os.environ['RECORD'], 'a') as out:\n"
    "        out.write(f'{name} {{fedapay_mock.port}} {{fedapay_mock.app.options.max_payouts_per_number}}\\n')\n"
)


def test_an_options_override_in_one_folder_applies_there_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for name, conftest in FOLDERS.items():
        folder = project / name
        folder.mkdir(parents=True)
        if conftest is not None:
            (folder / "conftest.py").write_text("import pytest\n" + conftest, encoding="utf-8")
        (folder / f"test_{name}.py").write_text(RECORD.format(name=name), encoding="utf-8")
    record = tmp_path / "record.txt"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist",
         "--rootdir", str(project), "a", "b", "c"],
        capture_output=True, text=True, check=False, cwd=project, env={**os.environ, "RECORD": str(record)},
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    got = {name: (port, limit) for name, port, limit in (line.split() for line in record.read_text().splitlines())}
    assert {name: limit for name, (_port, limit) in got.items()} == {"a": "None", "b": "3", "c": "None"}
    assert got["a"][0] == got["c"][0] != got["b"][0]  # equal options share one server, kept for the session


def test_importing_the_package_and_plugin_loads_no_server_dependency() -> None:
    code = (
        "import sys, fedapay_mock, fedapay_mock.pytest_plugin\n"
        "heavy = {'uvicorn', 'orjson', 'jsonschema_rs', 'yaml', 'httpx'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.strip() == "[]"


def test_a_session_fixture_of_the_user_can_use_the_session_server(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='session')\ndef session_port(fedapay_mock_server):\n"
        "    return fedapay_mock_server.port\n",
        encoding="utf-8",
    )
    (tmp_path / "test_session.py").write_text(
        "def test_one(session_port, fedapay_mock, fedapay_mock_server):\n"
        "    assert session_port == fedapay_mock.port == fedapay_mock_server.port\n"
        "    assert fedapay_mock is fedapay_mock_server\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_all_extra_brings_the_mock_with_every_other_extra_and_the_urls_are_real() -> None:
    """`pip install 'fedapay-payouts[all]'`: the mock, bulk and contract extras at once (there was no such extra);
    the project's URLs are addresses it can name truthfully, never a placeholder."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert sorted(extras["all"]) == sorted(f"fedapay-payouts[{name}]" for name in extras if name not in ("all", "dev"))
    assert {"mock", "bulk", "contract"} <= set(extras)
    urls = project["urls"]
    assert urls
    for url in urls.values():
        assert url.startswith("https://"), url
        assert not any(word in url.lower() for word in ("example", "todo", "xxx", "<", "your-", "placeholder")), url


def _user_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist",
         "--rootdir", str(project), *args],
        capture_output=True, text=True, check=False, cwd=project, timeout=120,
    )  # fmt: skip


def test_servers_of_many_options_are_not_all_kept_and_a_stopped_one_is_started_again(tmp_path: Path) -> None:
    """A test parametrized over many options kept a server (a thread, 8 file descriptors) for each until the session
    ended: past a few dozen, a process with macOS's 256 descriptors failed with "Server disconnected". And a test
    that stopped its server broke every later test ("the client has been closed"). Fifteenth review."""
    (tmp_path / "test_many.py").write_text(
        "import threading\nimport pytest\nfrom fedapay_mock import MockOptions\n\n"
        "@pytest.fixture\ndef fedapay_mock_options(request):\n"
        "    return MockOptions(settle_seconds=float(request.param))\n\n"
        "@pytest.mark.parametrize('fedapay_mock_options', range(11), indirect=True)\n"
        "def test_each(fedapay_mock):\n"
        "    assert fedapay_mock.stats()['created'] == 0\n\n"
        "def test_z_servers_left():\n"
        "    serving = [t for t in threading.enumerate() if t.name.startswith('asgi-server-')]\n"
        "    assert 0 < len(serving) <= 9, len(serving)\n",
        encoding="utf-8",
    )
    (tmp_path / "test_stop.py").write_text(
        "def test_1_stops_it(fedapay_mock):\n    fedapay_mock.stop()\n\n"
        "def test_2_gets_a_running_one(fedapay_mock):\n"
        "    assert fedapay_mock.running\n    assert fedapay_mock.stats()['created'] == 0\n",
        encoding="utf-8",
    )
    done = _user_pytest(tmp_path, "test_stop.py", "test_many.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "14 passed" in done.stdout


def test_a_misspelled_option_fails_in_one_line_naming_it_without_the_key(tmp_path: Path) -> None:
    """The fixture's traceback showed the options dict (an `api_key`) as its argument (fifteenth review)."""
    secret = "sk_sandbox_" + "TOPSECRET" + "key42"
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='session')\ndef fedapay_mock_options():\n"
        f"    return {{'max_payout_per_number': None, 'api_key': {secret!r}}}\n",
        encoding="utf-8",
    )
    (tmp_path / "test_user.py").write_text("def test_a(fedapay_mock):\n    pass\n", encoding="utf-8")
    done = _user_pytest(tmp_path, "--tb=long", "-l")
    assert done.returncode == 1, done.stdout + done.stderr
    named = "fedapay_mock_options: MockOptions.__init__() got an unexpected keyword argument 'max_payout_per_number'"
    assert named in done.stdout
    assert "During handling" not in done.stdout
    assert "TOPSECRET" not in done.stdout + done.stderr


def test_a_server_a_session_fixture_holds_is_never_stopped_for_others_and_a_stopped_one_is_named(
    tmp_path: Path,
) -> None:
    """The server cache stopped the server a user's session fixture held (got with `fedapay_mock_servers.server`)
    once nine other option sets had run; and a session server a test stopped came back as another object than the
    one the session holds (sixteenth review)."""
    (tmp_path / "conftest.py").write_text(
        "import pytest\nfrom fedapay_mock import MockOptions\n\n"
        "@pytest.fixture(scope='session')\ndef strict(fedapay_mock_servers):\n"
        "    return fedapay_mock_servers.server(MockOptions(max_payouts_per_number=1))\n",
        encoding="utf-8",
    )
    (tmp_path / "test_a_many.py").write_text(
        "import pytest\nfrom fedapay_mock import MockOptions\n\n"
        "def test_0_holds(strict):\n    assert strict.running\n\n"
        "@pytest.fixture\ndef fedapay_mock_options(request):\n"
        "    return MockOptions(settle_seconds=float(request.param))\n\n"
        "@pytest.mark.parametrize('fedapay_mock_options', range(9), indirect=True)\n"
        "def test_1_each(fedapay_mock):\n    assert fedapay_mock.running\n\n"
        "def test_2_still_held(strict):\n    assert strict.running\n    assert strict.stats()['created'] == 0\n",
        encoding="utf-8",
    )
    (tmp_path / "test_b_stop.py").write_text(
        "def test_1_stops_the_session_server(fedapay_mock_server):\n    fedapay_mock_server.stop()\n\n"
        "def test_2_needs_it(fedapay_mock):\n    pass\n",
        encoding="utf-8",
    )
    done = _user_pytest(tmp_path, "-rA", "test_a_many.py", "test_b_stop.py")
    assert "12 passed" in done.stdout, done.stdout + done.stderr
    assert "1 error" in done.stdout
    assert "ERROR test_b_stop.py::test_2_needs_it" in done.stdout
    assert "fedapay_mock: the mock server of these options" in done.stdout
    assert "was stopped by an earlier test" in done.stdout
