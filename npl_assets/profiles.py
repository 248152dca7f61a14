"""Which deployment profile is in force, and everything that differs between the two. The ONE
place that reads NPL_PROFILE and the team profile's settings; resources, the content store, dbt's
profile and the readers ask this module, so the same code and definitions run in both.

- `embedded` (default): Dagster on SQLite in DAGSTER_HOME, the warehouse one DuckDB file, the
  content store a local folder, readers on a published copy of the marts (the serving file).
- `team`: Dagster's instance on Postgres, the warehouse a DuckLake (catalog in Postgres, data as
  Parquet on S3), the content store on the same S3, readers attached read-only to the DuckLake
  snapshot the last successful run published. Settings come from NPL_PG_* and NPL_S3_*
  variables; any unset one is read from the env file `make team-up` writes (NPL_TEAM_ENV,
  default `.dagster_home/team/team.env`), so `NPL_PROFILE=team npl sql ...` works after it.

DuckDB's extensions (ducklake, postgres_scanner, httpfs) come from the registry's wheels,
installed at set-up into a project-local extension directory; nothing is downloaded at run time
(`autoinstall_known_extensions` is off everywhere)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from npl_assets import settings

EMBEDDED = "embedded"
TEAM = "team"
PROFILES = (EMBEDDED, TEAM)
PROFILE_ENV = "NPL_PROFILE"
TEAM_ENV_FILE_ENV = "NPL_TEAM_ENV"
# The name the DuckLake is attached under, in the assets' connections, dbt's and the readers'.
LAKE = "lake"
EXTENSIONS = ("ducklake", "postgres_scanner", "httpfs")


class ProfileError(ValueError):
    """An unknown profile or a missing setting; the message names it."""


def profile() -> str:
    name = (os.environ.get(PROFILE_ENV) or EMBEDDED).strip().lower()
    if name not in PROFILES:
        raise ProfileError(f"{PROFILE_ENV}={name!r}: expected one of {', '.join(PROFILES)}")
    return name


def is_team() -> bool:
    return profile() == TEAM


def team_env_file() -> Path:
    value = os.environ.get(TEAM_ENV_FILE_ENV)
    if value:
        return Path(value).expanduser().resolve()
    home = os.environ.get("DAGSTER_HOME")
    base = Path(home) if home else settings.PROJECT_ROOT / ".dagster_home"
    # Make's team targets point DAGSTER_HOME at .dagster_home/team itself.
    return (base if base.name == TEAM else base / TEAM) / "team.env"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (the format `make` and `set -a; . file` read); '#' starts a comment."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ProfileError(f"{path}:{number}: not a KEY=VALUE line")
        values[key.strip()] = value.strip()
    return values


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{key}={value}\n" for key, value in values.items())
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("# written by `npl team up`; secrets: keep this file private\n" + body)
    tmp.chmod(0o600)
    os.replace(tmp, path)


def _setting(name: str, file_values: dict[str, str], default: str | None = None) -> str:
    value = os.environ.get(name) or file_values.get(name) or default
    if value is None:
        raise ProfileError(
            f"team profile: {name} is not set (nor in {team_env_file()}); run `make team-up` "
            "or set the NPL_PG_* and NPL_S3_* variables (docs/team.md)"
        )
    return value


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class TeamSettings:
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    dagster_db: str
    catalog_db: str
    s3_endpoint: str  # host:port, no scheme (DuckDB's form)
    s3_use_ssl: bool
    s3_url_style: str
    s3_region: str
    s3_key_id: str
    s3_secret: str
    s3_bucket: str
    s3_prefix: str  # under the bucket: `lake/` holds DuckLake's Parquet, `raw/` the PDFs

    @classmethod
    def from_env(cls) -> TeamSettings:
        file_values = read_env_file(team_env_file())

        def get(name: str, default: str | None = None) -> str:
            return _setting(name, file_values, default)

        return cls(
            pg_host=get("NPL_PG_HOST", "127.0.0.1"),
            pg_port=int(get("NPL_PG_PORT", "5432")),
            pg_user=get("NPL_PG_USER"),
            pg_password=get("NPL_PG_PASSWORD"),
            dagster_db=get("NPL_PG_DAGSTER_DB", "dagster"),
            catalog_db=get("NPL_PG_CATALOG_DB", "ducklake"),
            s3_endpoint=get("NPL_S3_ENDPOINT"),
            s3_use_ssl=get("NPL_S3_USE_SSL", "true").lower() in ("1", "true", "yes"),
            s3_url_style=get("NPL_S3_URL_STYLE", "vhost"),
            s3_region=get("NPL_S3_REGION", "us-east-1"),
            s3_key_id=get("NPL_S3_KEY_ID"),
            s3_secret=get("NPL_S3_SECRET"),
            s3_bucket=get("NPL_S3_BUCKET"),
            s3_prefix=get("NPL_S3_PREFIX", "").strip("/"),
        )

    def _s3_url(self, *parts: str) -> str:
        path = "/".join(p for p in (self.s3_prefix, *parts) if p)
        return f"s3://{self.s3_bucket}/{path}/"

    @property
    def lake_data_path(self) -> str:
        return self._s3_url("lake")

    @property
    def content_store_url(self) -> str:
        return self._s3_url("raw")

    @property
    def s3_endpoint_url(self) -> str:
        return f"{'https' if self.s3_use_ssl else 'http'}://{self.s3_endpoint}"

    def catalog_dsn(self, include_password: bool = True) -> str:
        """libpq key=value string of the DuckLake catalog database (without the password for
        dbt's vars, whose profile adds it from the environment)."""
        dsn = f"dbname={self.catalog_db} host={self.pg_host} port={self.pg_port}"
        dsn += f" user={self.pg_user}"
        return f"{dsn} password={self.pg_password}" if include_password else dsn

    def dagster_postgres_url(self) -> str:
        # SQLAlchemy 2.1's default postgresql:// driver is psycopg 3; dagster-postgres ships
        # with psycopg2.
        from urllib.parse import quote

        return (
            f"postgresql+psycopg2://{quote(self.pg_user, safe='')}:"
            f"{quote(self.pg_password, safe='')}@{self.pg_host}:{self.pg_port}/{self.dagster_db}"
        )

    def secret_sql(self) -> str:
        return (
            "create or replace secret npl_s3 (type s3, "
            f"key_id {_quote(self.s3_key_id)}, secret {_quote(self.s3_secret)}, "
            f"endpoint {_quote(self.s3_endpoint)}, region {_quote(self.s3_region)}, "
            f"url_style {_quote(self.s3_url_style)}, use_ssl {str(self.s3_use_ssl).lower()}, "
            f"scope {_quote(f's3://{self.s3_bucket}/')})"
        )

    def attach_sql(
        self, alias: str = LAKE, read_only: bool = False, snapshot: int | None = None
    ) -> str:
        options = [f"data_path {_quote(self.lake_data_path)}"]
        if read_only:
            options.append("read_only")
        if snapshot is not None:
            options.append(f"snapshot_version {int(snapshot)}")
        return (
            f"attach if not exists {_quote('ducklake:postgres:' + self.catalog_dsn())} "
            f"as {alias} ({', '.join(options)})"
        )


def team_settings() -> TeamSettings:
    return TeamSettings.from_env()


def content_store_location() -> str:
    """Where the raw PDFs go: the local folder (NPL_RAW_DIR), or the team profile's S3 URL."""
    if is_team():
        return team_settings().content_store_url
    return str(settings.raw_dir())


def s3_client(team: TeamSettings | None = None):
    """A boto3 S3 client for the team profile's object storage."""
    import boto3
    from botocore.config import Config

    team = team or team_settings()
    return boto3.client(
        "s3",
        endpoint_url=team.s3_endpoint_url,
        aws_access_key_id=team.s3_key_id,
        aws_secret_access_key=team.s3_secret,
        region_name=team.s3_region,
        config=Config(
            s3={"addressing_style": "path" if team.s3_url_style == "path" else "virtual"},
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )


# --- DuckDB extensions ------------------------------------------------------------------------


def extension_directory() -> Path:
    """Project-local: DuckDB's default (~/.duckdb/extensions) is shared by every project."""
    value = os.environ.get("NPL_DUCKDB_EXTENSIONS")
    return Path(value).expanduser().resolve() if value else settings.PROJECT_ROOT / ".duckdb"


def extension_config() -> dict[str, object]:
    """Connection settings that find the installed extensions and never fetch one."""
    return {
        "extension_directory": str(extension_directory()),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def install_extensions(directory: Path | None = None) -> list[Path]:
    """Copy the extensions from their registry wheels into the extension directory (ms each,
    no network). Returns the installed files."""
    from duckdb_extensions import import_extension

    directory = directory or extension_directory()
    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"extension_directory": str(directory)})
    try:
        for name in EXTENSIONS:
            import_extension(name, con=con)
    finally:
        con.close()
    return sorted(directory.rglob("*.duckdb_extension"))


def extensions_installed(directory: Path | None = None) -> bool:
    directory = directory or extension_directory()
    found = {p.name.split(".")[0] for p in directory.rglob("*.duckdb_extension")}
    return set(EXTENSIONS) <= found


def ensure_extensions() -> None:
    """Install from the local wheels if a fresh checkout skipped the set-up step (still no
    network: the files come from site-packages)."""
    if not extensions_installed():
        install_extensions()


# --- connections ------------------------------------------------------------------------------


class NothingPublishedError(LookupError):
    """The team warehouse has no published snapshot yet (no successful run)."""


def _scrubbed(exc: duckdb.Error, team: TeamSettings) -> duckdb.Error:
    """The same error without the catalog password (DuckDB quotes the whole connection string)."""
    message = str(exc).replace(team.pg_password, "***") if team.pg_password else str(exc)
    try:
        return type(exc)(message)
    except TypeError:
        return duckdb.Error(message)


def open_lake(
    team: TeamSettings | None = None,
    read_only: bool = False,
    snapshot: int | None = None,
    config: dict[str, object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the DuckLake attached as `lake` and in use, so unqualified names
    (`raw.documents`, `main.projects`) resolve there exactly as in the embedded file."""
    team = team or team_settings()
    ensure_extensions()
    con = duckdb.connect(config={**extension_config(), **(config or {})})
    try:
        con.execute(team.secret_sql())
        con.execute(team.attach_sql(read_only=read_only, snapshot=snapshot))
        con.execute(f"use {LAKE}")
    except duckdb.Error as exc:
        con.close()
        if read_only and "does not exist" in str(exc):
            # A reader before the first run: the catalog has no DuckLake in it yet.
            raise NothingPublishedError(
                "the team warehouse is empty: run the pipeline first (`make run PROFILE=team`)"
            ) from None
        raise _scrubbed(exc, team) from None
    except BaseException:
        con.close()
        raise
    return con


def lake_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The current DuckLake snapshot id on a connection from `open_lake`."""
    return con.execute(f"select id from {LAKE}.current_snapshot()").fetchall()[0][0]


def published_snapshot(team: TeamSettings | None = None) -> int:
    """The snapshot the last successful run published (serving.published)."""
    con = open_lake(team, read_only=True)
    try:
        exists = con.execute(
            "select count(*) from duckdb_tables() where database_name = ? "
            "and schema_name = 'serving' and table_name = 'published'",
            [LAKE],
        ).fetchall()[0][0]
        row = (
            con.execute("select max(snapshot_id) from serving.published").fetchall()[0]
            if exists
            else (None,)
        )
    finally:
        con.close()
    if row[0] is None:
        raise NothingPublishedError(
            "the team warehouse has no published snapshot yet: run the pipeline first "
            "(`make run PROFILE=team`)"
        )
    return int(row[0])


def open_published(team: TeamSettings | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection at the last published snapshot, marts under their bare names.
    Other writes to the DuckLake (a run half way through dbt) are invisible to it."""
    team = team or team_settings()
    snapshot = published_snapshot(team)
    con = open_lake(team, read_only=True, snapshot=snapshot)
    try:
        con.execute(f"use {LAKE}.main")
        # The readers' lock-down (npl sql): nothing but the lake's files can be read, and the
        # settings cannot be changed back.
        con.execute(f"set allowed_directories = [{_quote(team.lake_data_path)}]")
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def dagster_yaml(team: TeamSettings) -> str:
    """The team instance's dagster.yaml: storage on Postgres (password from the environment,
    never written here), the queued run coordinator with one run at a time, one step per pool."""
    return f"""\
# Written by `npl team up`: the team profile's Dagster instance (docs/team.md).
storage:
  postgres:
    postgres_url:
      env: NPL_DAGSTER_PG_URL
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
# One run at a time per warehouse, one warehouse step at a time; the run's warehouse resource
# also takes a Postgres advisory lock, so runs from several instances, launchers or machines
# still never both write.
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
    granularity: op
telemetry:
  enabled: false
# catalog {team.catalog_db} on {team.pg_host}:{team.pg_port}; data {team.lake_data_path}
"""
