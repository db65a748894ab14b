"""`make bench`: run every benchmark against its own sandbox, print one table, write bench/results.json.

Usage: .venv/bin/python -m bench [--only gateway,picker] [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from bench.figures import Figure, table, write_results

# Each module has collect(quick: bool) -> list[Figure]; the order is the table's order.
MODULES = ("gateway",)
RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated module names (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not figures to quote")
    args = parser.parse_args()
    chosen = [name for name in MODULES if not args.only or name in args.only.split(",")]
    figures: list[Figure] = []
    for name in chosen:
        print(f"== bench_{name}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.bench_{name}")
        figures.extend(module.collect(quick=args.quick))
    print(table(figures))
    write_results(figures, RESULTS)
    print(f"\nWritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
