#!/usr/bin/env python3
"""The checks behind scripts/test-ops.sh that no off-the-shelf tool makes.

Heirloom refuses to start on an unknown HEIRLOOM_* variable (ADR 0003), so the
packaging must pass only settings that backend/src/config.rs defines; these checks
keep docker-compose.yml, the chart's values.schema.json and the rendered manifests
in step with it. Run by scripts/test-ops.sh inside its virtualenv (PyYAML, jsonschema):

    ops-checks.py docker-context              COPY sources and build inputs are in the context
    ops-checks.py compose-env                 heirloom's variables in docker-compose.yml are settings
    ops-checks.py schema CHART VALUES...      schema is sound, in step with config.rs, accepts VALUES
    ops-checks.py schema-rejects CHART        schema refuses known-bad values
    ops-checks.py manifests FILE [--pending]  rendered pods: known variables, no service links

Each prints what it found wrong and exits 1, or exits 0 in silence.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import jsonschema
import yaml
from helm_values import merge

ROOT = Path(__file__).resolve().parent.parent

# Settings the packaging may name before Heirloom has them (none today). Allowed only
# where the caller says so (--pending).
PENDING: set[str] = set()
# config.rs keys the chart's `config` map deliberately leaves out: the data folder is
# fixed at /data, secrets belong in the Secret, NATS and S3 have values of their own.
NOT_IN_CHART_CONFIG = {
    "data_dir",
    "database_url",
    "oidc_providers",
    "vault_key",
    "vault_previous_keys",
    "todoist_client_secret",
    "smtp_url",
    # Each pod generates its own in its data folder; one ConfigMap value would make every
    # pod the same replica, and all but one would be refused (ADR 0017).
    "replica_id",
}
CHART_OWN_SECTIONS = re.compile(r"^(nats_|s3_)")

problems: list[str] = []


def problem(message: str) -> None:
    problems.append(message)
    print(f"  - {message}")


def finish() -> int:
    return 1 if problems else 0


def config_keys() -> set[str]:
    """The fields of `struct Config` in backend/src/config.rs."""
    source = (ROOT / "backend/src/config.rs").read_text()
    body = re.search(r"pub struct Config \{(.*?)\n\}", source, re.S)
    if not body:
        raise SystemExit("ops-checks: cannot find `pub struct Config` in backend/src/config.rs")
    return set(re.findall(r"^\s*pub (\w+):", body.group(1), re.M))


def raw_variables() -> set[str]:
    """Unprefixed variables config.rs reads too: `Env::raw().only(&["DATABASE_URL", ...])`."""
    source = (ROOT / "backend/src/config.rs").read_text()
    found = re.search(r"Env::raw\(\)\s*\.only\(&\[([^\]]*)\]", source)
    return set(re.findall(r'"(\w+)"', found.group(1))) if found else set()


def known_variables() -> set[str]:
    """Environment variables Heirloom accepts: HEIRLOOM_<KEY>, HEIRLOOM_CONFIG, DATABASE_URL, ..."""
    return {f"HEIRLOOM_{key.upper()}" for key in config_keys()} | {"HEIRLOOM_CONFIG"} | raw_variables()


def check_variables(where: str, names, allow_pending: bool) -> None:
    known = known_variables()
    raw = raw_variables()
    for name in sorted(names):
        if not (name.startswith("HEIRLOOM_") or name in raw):
            continue
        if name in known:
            continue
        if allow_pending and name in PENDING:
            continue
        problem(f"{where}: {name} is not a setting in backend/src/config.rs (Heirloom would stop on it)")
    for name in sorted(PENDING & known):
        print(f"  note: {name} now exists in config.rs; drop it from PENDING in scripts/ops-checks.py")


# ---- docker-context ---------------------------------------------------------------


def dockerignore_patterns() -> list[tuple[bool, re.Pattern]]:
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip("/")
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        patterns.append((negate, re.compile(f"^{regex}$")))
    return patterns


def excluded(path: str, patterns) -> bool:
    """Docker's rule: the last matching pattern decides; a pattern matching a parent folder covers its contents."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for negate, regex in patterns:
        if any(regex.match(candidate) for candidate in candidates):
            result = not negate
    return result


def docker_context() -> int:
    patterns = dockerignore_patterns()
    lines = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text()).splitlines()
    required: set[str] = set()
    for line in lines:
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        if any(word.startswith("--from=") for word in words):
            continue
        sources = [word for word in words[1:-1] if not word.startswith("--")]
        required.update(sources)
    # What `make build` reads: the Makefile, the tool pins, the npm locks, the editor,
    # every workspace member, and the style file and assets folder cargo-leptos uses.
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    leptos = cargo["workspace"]["metadata"]["leptos"][0]
    required.update(["Makefile", "Cargo.toml", "Cargo.lock", "package.json", "package-lock.json",
                     "scripts/tools.sh", "editor/package.json", "editor/package-lock.json",
                     "editor/build.mjs", "editor/src", leptos["style-file"], leptos["assets-dir"]])
    for member in cargo["workspace"]["members"]:
        required.update([f"{member}/Cargo.toml", f"{member}/src"])
    for path in sorted(required):
        if path == ".":
            continue
        if not (ROOT / path).exists():
            problem(f"the image build needs {path}, which does not exist")
        elif excluded(path, patterns):
            problem(f"the image build needs {path}, which .dockerignore leaves out")
    return finish()


# ---- compose-env ------------------------------------------------------------------


def compose_env() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        environment = service.get("environment") or {}
        names = environment.keys() if isinstance(environment, dict) else [e.split("=", 1)[0] for e in environment]
        check_variables(f"docker-compose.yml service {name}", names, allow_pending=False)
    return finish()


# ---- schema -----------------------------------------------------------------------


def chart_schema(chart: Path):
    schema = json.loads((chart / "values.schema.json").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def defaults(chart: Path) -> dict:
    return yaml.safe_load((chart / "values.yaml").read_text())


def errors_for(validator, values: dict) -> list[str]:
    found = []
    for error in sorted(validator.iter_errors(values), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "(top)"
        found.append(f"{where}: {error.message}")
    return found


def schema(chart: Path, files: list[str]) -> int:
    validator = chart_schema(chart)
    # The chart's `config` map covers every setting in config.rs but those it leaves out.
    in_schema = set(validator.schema["properties"]["config"]["properties"])
    wanted = {k for k in config_keys() - NOT_IN_CHART_CONFIG if not CHART_OWN_SECTIONS.match(k)}
    for key in sorted(in_schema - wanted):
        problem(f"values.schema.json config.{key} is not a setting in backend/src/config.rs")
    for key in sorted(wanted - in_schema):
        problem(f"backend/src/config.rs has `{key}`, which values.schema.json's config does not list: add it "
                "(or, if the chart sets it another way, to NOT_IN_CHART_CONFIG in scripts/ops-checks.py)")
    base = defaults(chart)
    for name in files:
        values = base if Path(name).resolve() == (chart / "values.yaml").resolve() else \
            merge(base, yaml.safe_load(Path(name).read_text()) or {})
        for message in errors_for(validator, values):
            problem(f"{name}: {message}")
    return finish()


BAD_VALUES = {
    "SQLite with two replicas": {"replicaCount": 2},
    "SQLite with autoscaling": {"autoscaling": {"enabled": True}},
    "PostgreSQL without DATABASE_URL": {"database": {"engine": "postgres"}},
    "PostgreSQL without a vault key": {"database": {"engine": "postgres"}, "secretEnv": {"DATABASE_URL": "postgres://x"}},
    "SQLite with a DATABASE_URL": {"secretEnv": {"DATABASE_URL": "postgres://x"}},
    "an unknown setting": {"config": {"data_folder": "/x"}},
    "the database URL outside the Secret": {"config": {"database_url": "postgres://x"}},
    "a mistyped top-level value": {"replicas": 2},
    "a log format Heirloom refuses": {"config": {"log_format": "xml"}},
    "a Secret key that is no setting": {"secretEnv": {"POSTGRES_PASSWORD": "x"}},
}


def schema_rejects(chart: Path) -> int:
    validator = chart_schema(chart)
    base = defaults(chart)
    for label, override in BAD_VALUES.items():
        if not errors_for(validator, merge(base, override)):
            problem(f"values.schema.json accepts {label}: {override}")
    return finish()


# ---- manifests --------------------------------------------------------------------


def manifests(path: str, allow_pending: bool) -> int:
    documents = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
    for doc in documents:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
        if kind == "ConfigMap":
            check_variables(f"{path}: ConfigMap {name}", doc.get("data", {}), allow_pending)
        elif kind == "Secret":
            keys = list(doc.get("stringData", {})) + list(doc.get("data", {}))
            check_variables(f"{path}: Secret {name}", keys, allow_pending)
        pod = doc.get("spec", {}).get("template", {}).get("spec") if kind == "Deployment" else \
            doc.get("spec") if kind == "Pod" else None
        if pod is None:
            continue
        if pod.get("enableServiceLinks") is not False:
            problem(f"{path}: {kind} {name} must set enableServiceLinks: false (service links add HEIRLOOM_* variables)")
        for container in pod.get("containers", []):
            check_variables(f"{path}: {kind} {name}", [e["name"] for e in container.get("env", [])], allow_pending)
            security = container.get("securityContext", {})
            if security.get("readOnlyRootFilesystem") is not True or security.get("allowPrivilegeEscalation") is not False:
                problem(f"{path}: {kind} {name}: container {container['name']} must be read-only without privilege escalation")
        if pod.get("securityContext", {}).get("runAsNonRoot") is not True:
            problem(f"{path}: {kind} {name} must run as non-root")
    return finish()


# ---- observability -------------------------------------------------------------------


def observability() -> int:
    """The Grafana dashboard and the alert rules parse, and every metric they query is
    one Heirloom's code records (a renamed metric would leave a silent, empty panel)."""
    dashboard = json.loads((ROOT / "docs/ops/grafana-dashboard.json").read_text())
    rules = yaml.safe_load((ROOT / "docs/ops/prometheus-alerts.yaml").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    for group in rules["groups"]:
        for rule in group["rules"]:
            anchor = rule["annotations"].get("runbook", "").split("#")[-1]
            runbooks = (ROOT / "docs/ops/runbooks.md").read_text().lower()
            if f"## {anchor}" not in runbooks.replace("`", ""):
                problem(f"alert {rule['alert']}: docs/ops/runbooks.md has no section for it")
    source = "\n".join(p.read_text() for p in (ROOT / "backend/src").rglob("*.rs"))
    source += "\n".join(p.read_text() for p in (ROOT / "server/src").rglob("*.rs"))
    for expr in exprs:
        for name in set(re.findall(r"\b((?:heirloom|http)_[a-z_]+)", expr)):
            metric = re.sub(r"_(bucket|count|sum)$", "", name)
            if f'"{metric}"' not in source:
                problem(f"{metric} (in `{expr.strip()[:60]}…`) is not a metric Heirloom records")
    return finish()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "docker-context":
        return docker_context()
    if command == "compose-env":
        return compose_env()
    if command == "schema":
        return schema(Path(rest[0]), rest[1:])
    if command == "schema-rejects":
        return schema_rejects(Path(rest[0]))
    if command == "manifests":
        return manifests(rest[0], "--pending" in rest[1:])
    if command == "observability":
        return observability()
    print(f"ops-checks: unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
