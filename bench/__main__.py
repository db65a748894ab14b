"""`make bench`: run every benchmark against its own sandbox, print one table, write bench/results.json.

Usage: .venv/bin/python -m bench [--only gateway,picker] [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from bench.figures import Figure, table, write_results

# Each module has collect(quick: bool) -> list[Figure]; the order is the table's order.
MODULES = ("gateway", "picker", "upload", "load")
RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated module names (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not figures to quote")
    args = parser.parse_args()
    chosen = [name for name in MODULES if not args.only or name in args.only.split(",")]
    unknown = [name for name in args.only.split(",") if name and name not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}: choose from {', '.join(MODULES)}")
    figures: list[Figure] = []
    failed: list[str] = []
    for name in chosen:
        print(f"== bench_{name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            figures.extend(module.collect(quick=args.quick))
        except Exception:
            # One module's failure must not lose the others' figures: report it and go on.
            traceback.print_exc()
            failed.append(name)
        print(f"   ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    print(table(figures))
    write_results(figures, RESULTS)
    print(f"\nWritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    if failed:
        print(f"These benchmarks failed (see above): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
