"""Audit the installed packages for known vulnerabilities, where a vulnerability database answers.

Runs pip-audit over the virtual environment this interpreter belongs to (what requirements.txt
and requirements-dev.txt installed, and everything they pull in), asking PyPI's vulnerability
data first and the OSV database next. Exit status:

  0  audited, nothing known; or no database could be reached, which it says plainly:
     "dependency audit skipped: <why>" (a database that answers for none of the packages,
     as an index mirror does, counts as not reached: an audit of nothing is not a pass)
  1  a known vulnerability, each listed with the version that fixes it; or pip-audit failed
     for a reason other than the network (that is a broken check, not a missing database)

Packages a database could not answer for while it answered for others are named, one a line.
"""

import json
import subprocess  # nosec B404  # runs pip-audit, a fixed command
import sys

SERVICES = {"pypi": "PyPI's vulnerability data", "osv": "the OSV database"}
REQUEST_SECONDS = 20
RUN_SECONDS = 600
# How requests and pip-audit word a database that can't be reached.
UNREACHABLE = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "ProxyError",
    "SSLError",
    "NameResolutionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
)


class Unreachable(Exception):
    """The database gave no usable answer; the message says why, in a line."""


def audit(service: str) -> list[dict]:
    """The dependencies pip-audit reported, asking `service`; Unreachable when it could not ask."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        str(REQUEST_SECONDS),
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)  # noqa: S603  # nosec B603
    except subprocess.TimeoutExpired:
        raise Unreachable(f"no answer within {RUN_SECONDS} s") from None
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        lines = [line.strip() for line in run.stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else f"pip-audit exited {run.returncode} and said nothing"
        if any(sign in run.stderr for sign in UNREACHABLE):
            raise Unreachable(last[:300]) from None
        print(f"dependency audit FAILED: pip-audit could not run: {last}", file=sys.stderr)
        raise SystemExit(1) from None
    dependencies = report.get("dependencies", [])
    if not any("skip_reason" not in dependency for dependency in dependencies):
        first = next((d["skip_reason"] for d in dependencies if "skip_reason" in d), "no packages listed")
        raise Unreachable(f"it answered for none of the {len(dependencies)} packages ({first})")
    return dependencies


def main() -> int:
    reasons = []
    for service, name in SERVICES.items():
        try:
            dependencies = audit(service)
        except Unreachable as why:
            reasons.append(f"{name}: {why}")
            continue
        return report(dependencies, name)
    print("dependency audit skipped: no vulnerability database could be reached. " + "; ".join(reasons))
    return 0


def report(dependencies: list[dict], name: str) -> int:
    audited = [d for d in dependencies if "skip_reason" not in d]
    found = [(d, vuln) for d in audited for vuln in d.get("vulns", [])]
    for dependency in dependencies:
        if "skip_reason" in dependency:
            print(f"not audited: {dependency['skip_reason']}")
    if found:
        print(f"dependency audit FAILED: {len(found)} known vulnerabilities ({name}):", file=sys.stderr)
        for dependency, vuln in found:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            print(
                f"  {dependency['name']} {dependency['version']}: {vuln['id']}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in {fixed}",
                file=sys.stderr,
            )
        return 1
    print(f"dependency audit passed: {len(audited)} packages checked against {name}, no known vulnerability.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
