"""Vendor pinned front-end files from npm packages so Respite runs offline.

    python scripts/vendor_assets.py          # download pins, verify, write files + manifests
    python scripts/vendor_assets.py --check  # offline: re-hash files against the manifests (CI)

Packages are fetched with the ordinary ``npm`` client (``npm view`` for the
published ``dist.integrity``, ``npm pack`` for the tarball), so whatever
registry npm is configured for is used. Each tarball is verified against that
``dist.integrity`` (sha512) before the single file we need is read out of it.
Every destination directory gets a ``VENDORED.json`` manifest recording
package, version, file, source (path inside the package), sha256 of the
vendored file and the tarball's integrity string. Standard library only, plus
the ``npm`` executable for a refresh (``--check`` needs neither npm nor network).
"""

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# To upgrade: change a version here, run the script, commit the results.
PINS = {
    "htmx.org": {
        "version": "2.0.11",
        "source": "dist/htmx.min.js",
        "dest": "static/vendor/htmx-{version}.min.js",
    },
    "htmx-ext-sse": {
        "version": "2.2.4",
        "source": "dist/sse.min.js",
        "dest": "static/vendor/htmx-ext-sse-{version}.js",
    },
    "axe-core": {
        "version": "4.14.1",
        "source": "axe.min.js",
        "dest": "tests/browser/vendor/axe-{version}.min.js",
    },
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_json(*args: str) -> object:
    """Run ``npm <args> --json`` from the project root and return its parsed stdout."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm not found on PATH; it is needed to download the pinned packages")
    cmd = [npm, *args, "--json"]
    try:
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        sys.exit(f"`npm {' '.join(args)}` timed out")
    if result.returncode != 0:
        sys.exit(f"`npm {' '.join(args)}` failed (exit {result.returncode}):\n{result.stderr.strip()}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit(f"`npm {' '.join(args)}` did not print JSON:\n{result.stdout.strip()}")


def vendor(package: str, pin: dict) -> dict:
    """Download one pinned package, verify it, write its file, return a manifest entry."""
    version = pin["version"]
    spec = f"{package}@{version}"
    integrity = npm_json("view", spec, "dist.integrity")
    if not isinstance(integrity, str):
        sys.exit(f"{spec}: npm view returned no single dist.integrity: {integrity!r}")
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        sys.exit(f"{spec}: unexpected integrity algorithm {algo!r}")
    with tempfile.TemporaryDirectory(prefix="vendor-assets-") as tmp:
        packed = npm_json("pack", spec, "--pack-destination", tmp)
        if not isinstance(packed, list) or len(packed) != 1:
            sys.exit(f"{spec}: unexpected `npm pack` output: {packed!r}")
        tarball = Path(tmp) / Path(packed[0]["filename"]).name
        actual = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if actual != expected:
            sys.exit(f"{spec}: tarball {tarball.name} does not match dist.integrity {integrity}")
        with tarfile.open(tarball, mode="r:gz") as tar:
            member = tar.extractfile(f"package/{pin['source']}")
            if member is None:
                sys.exit(f"{spec}: package/{pin['source']} is not a regular file in {tarball.name}")
            data = member.read()
    dest = pin["dest"].format(version=version)
    (ROOT / dest).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / dest).write_bytes(data)
    print(f"{package}@{version} -> {dest} ({len(data)} bytes)")
    return {
        "package": package,
        "version": version,
        "file": dest,
        "source": pin["source"],
        "sha256": sha256(data),
        "integrity": integrity,
    }


def manifest_path(dest: str) -> Path:
    return (ROOT / dest).parent / "VENDORED.json"


def refresh() -> None:
    manifests: dict[Path, list] = {}
    for package, pin in PINS.items():
        entry = vendor(package, pin)
        manifests.setdefault(manifest_path(entry["file"]), []).append(entry)
    for path, entries in manifests.items():
        # Remove files from an older pin that the new manifest no longer lists.
        if path.exists():
            keep = {e["file"] for e in entries}
            for old in json.loads(path.read_text())["assets"]:
                if old["file"] not in keep and (ROOT / old["file"]).exists():
                    (ROOT / old["file"]).unlink()
                    print(f"removed stale {old['file']}")
        doc = {"generated_by": "scripts/vendor_assets.py", "assets": entries}
        path.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")


def check() -> int:
    problems, seen = [], {}
    for path in sorted({manifest_path(p["dest"]) for p in PINS.values()}):
        if not path.exists():
            problems.append(f"missing manifest {path.relative_to(ROOT)}")
            continue
        for entry in json.loads(path.read_text())["assets"]:
            seen[entry["package"]] = entry["version"]
            file = ROOT / entry["file"]
            if not file.exists():
                problems.append(f"{entry['file']}: missing")
            elif sha256(file.read_bytes()) != entry["sha256"]:
                problems.append(f"{entry['file']}: sha256 differs from manifest (file was edited or replaced)")
    for package, pin in PINS.items():
        if seen.get(package) != pin["version"]:
            problems.append(f"{package}: pinned {pin['version']} but manifest has {seen.get(package)}")
    if problems:
        print("Vendored assets are out of date:", *problems, sep="\n  ", file=sys.stderr)
        print(
            "Run `python scripts/vendor_assets.py` and commit the result.",
            file=sys.stderr,
        )
        return 1
    print(f"OK: {len(seen)} vendored files match their manifests.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify files on disk against the manifests (no network)",
    )
    if parser.parse_args().check:
        return check()
    refresh()
    return 0


if __name__ == "__main__":
    sys.exit(main())
