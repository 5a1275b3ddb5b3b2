#!/usr/bin/env python3
"""Render (and lint) a Helm chart without the helm binary, as `helm template` would.

Rendering goes through Helm's own Go engine (Go templates, Sprig, `include`, `tpl`,
`.Capabilities`, values coalescing, values.schema.json), which the PyPI package
`helm-python-sdk` ships as a shared library with a ctypes binding; nothing is
downloaded and no cluster is contacted. scripts/test-ops.sh installs it into its
virtualenv and runs this script there.

    scripts/helm-render.py helm/heirloom -f helm/heirloom/values-sqlite.yaml > out.yaml
    scripts/helm-render.py helm/heirloom -f a.yaml -f b.yaml --set image.tag=0.2.0
    scripts/helm-render.py helm/heirloom --lint --kube-version 1.30.0
    scripts/helm-render.py helm/heirloom --notes

Like `helm template`: values files merge left to right (maps deeply, a null removes a
key), --set (Helm's syntax) wins over files, the chart's values.schema.json must
accept the result, NOTES.txt and partials are left out, and each manifest is printed
as `---` + `# Source: CHART/templates/FILE`. Exit 1 on any error, with Helm's message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from helm_values import merge

try:
    import helm_python as helm
except ImportError:  # pragma: no cover - explained to the person running it
    sys.exit("helm-render: the helm-python-sdk package is missing; run scripts/test-ops.sh, or pip install helm-python-sdk")


def load_values(files: list[str], sets: list[str]) -> dict:
    values: dict = {}
    for name in files:
        loaded = yaml.safe_load(Path(name).read_text()) or {}
        if not isinstance(loaded, dict):
            raise SystemExit(f"helm-render: {name}: values must be a mapping")
        values = merge(values, loaded)
    for expression in sets:
        values = merge(values, helm.parse_set_string(expression))
    return values


def render(chart_dir: str, values: dict, name: str, namespace: str) -> tuple[str, str]:
    """The manifests as one YAML stream, and the rendered NOTES.txt."""
    with helm.Chart.load(chart_dir) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values, name=name, namespace=namespace, is_install=True)
    documents, notes = [], ""
    for path in sorted(rendered):
        text = rendered[path]
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        if Path(path).name.startswith("_") or not text.strip():
            continue
        documents.append(f"---\n# Source: {path}\n{text.strip()}\n")
    return "".join(documents), notes


def lint(chart_dir: str, values: dict, kube_version: str | None) -> int:
    """helm lint --strict: warnings count as failures."""
    report = helm.lint(chart_dir, values, strict=True, kube_version=kube_version and f"v{kube_version.lstrip('v')}")
    failed = bool(report.get("errors"))
    for message in report.get("messages", []):
        severity = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}.get(message["severity"], "?")
        print(f"[{severity}] {message['path']}: {message['error']}", file=sys.stderr)
        failed |= message["severity"] >= 2
    for error in report.get("errors", []):
        print(f"[ERROR] {error}", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chart", help="chart folder, e.g. helm/heirloom")
    parser.add_argument("-f", "--values", action="append", default=[], help="values file (repeatable)")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE in Helm's --set syntax (repeatable)")
    parser.add_argument("--name", default="heirloom", help="release name (default: heirloom)")
    parser.add_argument("--namespace", default="heirloom", help="release namespace (default: heirloom)")
    parser.add_argument("-o", "--output", help="write the manifests here instead of stdout")
    parser.add_argument("--notes", action="store_true", help="print the rendered NOTES.txt instead of the manifests")
    parser.add_argument("--lint", action="store_true", help="run helm lint --strict with these values instead of rendering")
    parser.add_argument("--kube-version", help="Kubernetes version for --lint, e.g. 1.30.0")
    args = parser.parse_args()

    try:
        values = load_values(args.values, args.set)
        if args.lint:
            return lint(args.chart, values, args.kube_version)
        manifests, notes = render(args.chart, values, args.name, args.namespace)
    except helm.HelmError as err:
        print(f"helm-render: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    except (OSError, yaml.YAMLError) as err:
        print(f"helm-render: {err}", file=sys.stderr)
        return 1
    text = notes if args.notes else manifests
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
