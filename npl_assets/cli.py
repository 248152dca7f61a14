"""The `npl` command. Each subcommand lives beside the code it drives; imports are lazy so that
`npl parse` does not pay for Scrapy or Dagster."""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module exposing register(subparsers) and a handler set via set_defaults(func=...)
_COMMANDS = {
    "site": "npl_assets.site.cli",
    "parse": "npl_assets.parsing.cli",
    "crawl": "npl_assets.crawler.cli",
    "bench": "npl_assets.bench",
    "sql": "npl_assets.sql",
    "status": "npl_assets.completeness",
    "open": "npl_assets.openings.cli",
    "report": "npl_assets.report",
    "team": "npl_assets.team.cli",
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="npl", description="Yindeng NPL disclosures toolkit")
    sub = parser.add_subparsers(dest="command", required=True)
    wanted = argv[0] if argv and argv[0] in _COMMANDS else None
    for name, module_name in _COMMANDS.items():
        if wanted not in (None, name):
            sub.add_parser(name)
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
