"""scripts/dependency_audit.py: a known vulnerability fails; an unreachable database is said plainly, not passed."""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "dependency_audit.py"


@pytest.fixture
def dependency_audit():
    spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answers(monkeypatch, module, by_service):
    """pip-audit's answer per service: a report (dict), or stderr text (str) for a run that printed no report."""
    asked = []

    def run(command, **kwargs):
        service = command[command.index("--vulnerability-service") + 1]
        asked.append(service)
        answer = by_service[service]
        if isinstance(answer, dict):
            failed = any(d.get("vulns") for d in answer["dependencies"])
            return subprocess.CompletedProcess(command, int(failed), json.dumps(answer), "")
        return subprocess.CompletedProcess(command, 1, "", answer)

    monkeypatch.setattr(module.subprocess, "run", run)
    return asked


CLEAN = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}
MIRROR = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}
OFFLINE = "Traceback ...\nrequests.exceptions.ConnectionError: Failed to resolve 'api.osv.dev'"


def test_a_known_vulnerability_fails_and_names_the_fix(monkeypatch, capsys, dependency_audit):
    vulnerable = {
        "dependencies": [
            {
                "name": "werkzeug",
                "version": "3.0.0",
                "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["3.0.6"]}],
            },
            *CLEAN["dependencies"],
        ]
    }
    answers(monkeypatch, dependency_audit, {"pypi": vulnerable})

    assert dependency_audit.main() == 1
    assert "werkzeug 3.0.0: PYSEC-1 (CVE-1); fixed in 3.0.6" in capsys.readouterr().err


def test_nothing_known_passes_and_says_how_many(monkeypatch, capsys, dependency_audit):
    answers(monkeypatch, dependency_audit, {"pypi": CLEAN})

    assert dependency_audit.main() == 0
    assert "dependency audit passed: 1 packages checked" in capsys.readouterr().out


def test_no_database_reached_is_a_plain_skip(monkeypatch, capsys, dependency_audit):
    asked = answers(monkeypatch, dependency_audit, {"pypi": MIRROR, "osv": OFFLINE})

    assert dependency_audit.main() == 0
    out = capsys.readouterr().out
    assert out.startswith("dependency audit skipped: ")
    assert "answered for none of the 1 packages" in out
    assert "Failed to resolve 'api.osv.dev'" in out
    assert asked == ["pypi", "osv"]


def test_the_second_database_is_asked_when_the_first_cant_answer(monkeypatch, capsys, dependency_audit):
    answers(monkeypatch, dependency_audit, {"pypi": OFFLINE, "osv": CLEAN})

    assert dependency_audit.main() == 0
    assert "checked against the OSV database" in capsys.readouterr().out


def test_pip_audit_failing_otherwise_fails_the_check(monkeypatch, capsys, dependency_audit):
    answers(monkeypatch, dependency_audit, {"pypi": "ModuleNotFoundError: No module named 'pip_audit'"})

    with pytest.raises(SystemExit) as stopped:
        dependency_audit.main()
    assert stopped.value.code == 1
    assert "No module named 'pip_audit'" in capsys.readouterr().err
