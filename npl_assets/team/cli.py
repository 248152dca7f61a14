"""`npl team up|down|extensions`: the local stand-ins for a team's Postgres and S3 (make team-up
/ team-down), and the set-up step that installs DuckDB's extensions from their wheels."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from npl_assets import profiles


def team_home(args: argparse.Namespace) -> Path:
    return Path(args.home).resolve() if args.home else profiles.team_env_file().parent


def write_instance(home: Path) -> Path:
    """dagster.yaml for the team instance in `home`, and its storage created in Postgres once
    (two first runs at once would otherwise both migrate it)."""
    team = profiles.TeamSettings.from_env()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(profiles.dagster_yaml(team), encoding="utf-8")
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        instance.get_run_records(limit=1)
    finally:
        instance.dispose()
    return home / "dagster.yaml"


def up(args: argparse.Namespace) -> int:
    from npl_assets.team.services import LocalTeamServices, ServiceError

    home = team_home(args)
    env_file = home / "team.env"
    if env_file.exists() and profiles.read_env_file(env_file).get("NPL_LOCAL_PG_DATA"):
        print(f"npl team up: already up ({env_file}); `make team-down` first", file=sys.stderr)
        return 1
    profiles.install_extensions()
    try:
        services = LocalTeamServices.start(home)
    except ServiceError as exc:
        print(f"npl team up: {exc}", file=sys.stderr)
        return 1
    try:
        env = services.env()
        os.environ.update(env)
        # The instance's dagster.yaml reads its Postgres URL from this variable.
        env["NPL_DAGSTER_PG_URL"] = profiles.TeamSettings.from_env().dagster_postgres_url()
        os.environ["NPL_DAGSTER_PG_URL"] = env["NPL_DAGSTER_PG_URL"]
        profiles.write_env_file(env_file, env)
        write_instance(home)
    except BaseException:
        services.stop()
        env_file.unlink(missing_ok=True)
        raise
    print(
        f"team services up: PostgreSQL on 127.0.0.1:{services.postgres.port}, "
        f"S3 (moto) on {services.s3.endpoint}; settings in {env_file}, instance in {home}"
    )
    return 0


def down(args: argparse.Namespace) -> int:
    from npl_assets.team.services import LocalPostgres, stop_pid

    env_file = team_home(args) / "team.env"
    values = profiles.read_env_file(env_file)
    if not values.get("NPL_LOCAL_PG_DATA"):
        print(f"npl team down: nothing started here ({env_file} has no local services)")
        return 0
    if values.get("NPL_LOCAL_S3_PID"):
        stop_pid(int(values["NPL_LOCAL_S3_PID"]))
    LocalPostgres(Path(values["NPL_LOCAL_PG_DATA"]), int(values["NPL_PG_PORT"]), "").stop()
    env_file.unlink()
    print("team services stopped (their data, in temp folders, is gone)")
    return 0


def extensions(args: argparse.Namespace) -> int:
    for path in profiles.install_extensions():
        print(path)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("team", help="local Postgres and S3 for the team profile")
    actions = parser.add_subparsers(dest="action", required=True)
    for name, func, text in (
        ("up", up, "start local Postgres and S3, write the team instance and settings"),
        ("down", down, "stop what `up` started"),
        ("extensions", extensions, "install DuckDB's extensions from their wheels"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--home", help="team DAGSTER_HOME (default: .dagster_home/team)")
        action.set_defaults(func=func)
