"""Main job: execute every notebook in order on the built-in data (``make run``).

Executed copies, each notebook's result files and a manifest with provenance go to
``runs/<UTC time>_<commit>/`` (or ``--run-dir``). Extra parameters are passed with
``-p name value`` (values are parsed as Python literals when possible) and reach every
notebook that declares them, e.g. ``-p dataset '"jaffe"' -p data_root '"/data/fer"'``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from datetime import UTC, datetime
from pathlib import Path

from fer_utils.provenance import REPO_ROOT, git_commit
from fer_utils.runs.notebooks import NOTEBOOK_DIR, check_declared, list_notebooks, run_notebooks


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="run every notebook in quick mode")
    parser.add_argument("--run-dir", type=Path, default=None, help="where to write the run")
    parser.add_argument(
        "--only", nargs="*", default=None, help="notebook number prefixes to run, e.g. 01 03"
    )
    parser.add_argument(
        "-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE")
    )
    args = parser.parse_args(argv)

    notebooks = list_notebooks(NOTEBOOK_DIR)
    if args.only:
        notebooks = [nb for nb in notebooks if nb.name[:2] in set(args.only)]
    if not notebooks:
        print(f"no notebooks to run in {NOTEBOOK_DIR}", file=sys.stderr)
        return 2
    params = {name: _literal(value) for name, value in args.param}
    if args.quick:
        params["quick"] = True
    try:
        check_declared(notebooks, params)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = args.run_dir or REPO_ROOT / "runs" / f"{stamp}_{git_commit(short=True)}"
    print(f"running {len(notebooks)} notebook(s) into {run_dir}", flush=True)
    manifest = run_notebooks(run_dir, params, notebooks)
    failed = [e["notebook"] for e in manifest["notebooks"] if e["status"] != "ok"]
    if failed:
        print(f"FAILED: {', '.join(failed)} (see {run_dir}/manifest.json)", file=sys.stderr)
        return 1
    print(f"all notebooks ran; results and manifest in {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
