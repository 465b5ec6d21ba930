"""`python -m bench [ingest|list|drain ...]`: run the benchmarks and print their tables."""

import platform
import sys
from collections.abc import Callable
from datetime import date

from bench import drain, ingest, ops_list, pages, profile

BENCHMARKS: dict[str, Callable[[], list[str]]] = {
    "ingest": lambda: ingest.report(ingest.run()),
    "list": lambda: ops_list.report(ops_list.run()),
    "drain": lambda: drain.report(drain.run()),
    "pages": lambda: pages.report(pages.run()),
    # Not part of a plain `make bench`: needs py-spy (`python -m bench profile`).
    "profile": lambda: profile.run("dial") + [""] + profile.run("status"),
}
DEFAULT = ("ingest", "list", "drain")


def main(names: list[str]) -> None:
    chosen = names or list(DEFAULT)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(f"unknown benchmark {unknown}; choose from {sorted(BENCHMARKS)}")
    cpus = len(__import__("os").sched_getaffinity(0))
    print(
        f"callpledge benchmarks, {date.today()}, {platform.machine()} {cpus} cores, "
        f"Python {platform.python_version()}"
    )
    for name in chosen:
        print()
        print("\n".join(BENCHMARKS[name]()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
