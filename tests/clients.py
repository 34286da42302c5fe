"""Real BI clients of the published warehouse, for the tests (imported as `clients`).

Each client is installed from its package registry into a folder under the repository's `.cache/`
(ignored by git through `.cache/.gitignore`, written here) the first time it is needed, and kept
there; a client that cannot be installed (no node/npm, the registry unreachable) is not started and
its tests skip with the reason. Every client runs as a reader subprocess that speaks one protocol:

    argv: the warehouse path; stdout: one JSON line {"ready": ...} once it has opened the file
    read-only and read it; then it waits for a line on stdin, reads again with the SAME connection
    and prints one JSON line {"final": ...} before it exits.

`rebuilt_warehouse` (conftest) starts every client before the second full build and collects the
final line after it, so each one holds the file open while the pipeline replaces it.

Clients:
- superset: SQLAlchemy 1.4 + duckdb-engine, the stack Superset 6.1 installs (apache-superset[duckdb]
  requires sqlalchemy<2 and duckdb-engine>=0.17.0), with the venv's duckdb, URL
  `duckdb:///<path>?access_mode=read_only` as a Superset database URI;
- sqlalchemy2: SQLAlchemy 2.1 (the venv's, pinned for Dagster) + duckdb-sqlalchemy, a DuckDB dialect
  that reflects through DuckDB's own catalog (installed under .cache, not in the venv: it registers
  the same `duckdb` dialect name as duckdb-engine; the URL names it, `duckdb+duckdb_sqlalchemy://`);
- node: @duckdb/node-api, the Node client Evidence uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from support import REPO_ROOT

CACHE = REPO_ROOT / ".cache" / "clients"

SQLALCHEMY_SUPERSET = ("sqlalchemy==1.4.54", "duckdb-engine==0.17.0")
SQLALCHEMY_2 = ("duckdb-sqlalchemy==1.5.6.5",)
NODE_API = "@duckdb/node-api@1.5.6-r.1"


@dataclass
class Client:
    name: str
    versions: str
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    skip: str | None = None


def _cache_dir(name: str, spec: str) -> tuple[Path, bool]:
    """The client's cache folder and whether `spec` is already installed there."""
    CACHE.mkdir(parents=True, exist_ok=True)
    ignore = CACHE.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# installed test clients (tests/clients.py); never committed\n*\n")
    folder = CACHE / name
    stamp = folder / ".installed"
    return folder, stamp.exists() and stamp.read_text() == spec


def _install(folder: Path, spec: str, cmd: list[str], timeout: int = 600) -> str | None:
    """Run the install command into a fresh `folder`; None on success, else why it failed."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=folder)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{' '.join(cmd[:3])} ... failed: {exc}"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {' | '.join(tail)}"
    (folder / ".installed").write_text(spec)
    return None


def _pip_target(name: str, requirements: tuple[str, ...]) -> tuple[Path, str | None]:
    spec = " ".join(requirements)
    folder, ready = _cache_dir(name, spec)
    if ready:
        return folder, None
    error = _install(folder, spec, [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
                                    "--no-deps", "--target", str(folder), *requirements])
    return folder, error and f"cannot install {spec} from PyPI: {error}"


_PYTHON_READER = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import duckdb, sqlalchemy as sa
from importlib.metadata import version

url, schema = sys.argv[1], "marts"
engine = sa.create_engine(url)
conn = engine.connect()
insp = sa.inspect(conn)

def attempt(fn, *args, **kw):
    try:
        return {"ok": fn(*args, **kw)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}

def reflect():
    tables = insp.get_table_names(schema=schema)
    out = {"schemas": attempt(insp.get_schema_names), "tables": tables,
           "default_tables": attempt(insp.get_table_names), "default_views": attempt(insp.get_view_names),
           "main_views": attempt(insp.get_view_names, schema="main"), "relations": {}}
    for t in tables:
        cols = attempt(insp.get_columns, t, schema=schema)
        if "ok" in cols:
            cols = {"ok": [{"name": c["name"], "type": repr(c["type"]), "nullable": c["nullable"],
                            "comment": c.get("comment")} for c in cols["ok"]]}
        out["relations"][t] = {"columns": cols, "pk": attempt(insp.get_pk_constraint, t, schema=schema),
                               "fks": attempt(insp.get_foreign_keys, t, schema=schema),
                               "comment": attempt(insp.get_table_comment, t, schema=schema)}
    return out

def counts():
    tables = insp.get_table_names(schema=schema)
    rows = {t: conn.execute(sa.text(f'select count(*) from {schema}."{t}"')).scalar() for t in tables}
    last = conn.execute(sa.text(f"select max(ingested_at)::varchar from {schema}.dim_document")).scalar()
    return {"counts": rows, "ingested_at": last}

versions = {p: version(p) for p in ("sqlalchemy", "duckdb") + tuple(sys.argv[2:])}
print(json.dumps({"ready": {"versions": versions, "reflection": reflect(), **counts()}}), flush=True)
sys.stdin.readline()
print(json.dumps({"final": counts()}), flush=True)
"""

_NODE_READER = r"""
const { DuckDBInstance, version } = require('@duckdb/node-api');
const readline = require('readline');
(async () => {
  // as Evidence's DuckDB source opens a file: read-only
  const instance = await DuckDBInstance.create(process.argv[2], { access_mode: 'READ_ONLY' });
  const con = await instance.connect();
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
  const read = async () => {
    const tables = (await rows("select table_name from duckdb_tables() where database_name = current_database() "
      + "and schema_name = 'marts' order by 1")).map(r => r.table_name);
    const counts = {};
    for (const t of tables) counts[t] = Number((await rows(`select count(*) as n from marts."${t}"`))[0].n);
    const last = (await rows("select max(ingested_at)::varchar as m from marts.dim_document"))[0].m;
    return { counts, ingested_at: last };
  };
  const main = (await rows("select table_name, table_type from information_schema.tables "
    + "where table_catalog = current_database() and table_schema = 'main' order by 1"));
  const comments = (await rows("select count(*) as n, count(comment) as c from duckdb_columns() "
    + "where database_name = current_database() and schema_name = 'marts'"))[0];
  console.log(JSON.stringify({ ready: { versions: { node: process.version, duckdb: version() }, main,
    columns: Number(comments.n), commented_columns: Number(comments.c), ...(await read()) } }));
  const rl = readline.createInterface({ input: process.stdin });
  rl.once('line', async () => {
    console.log(JSON.stringify({ final: await read() }));
    rl.close();
    con.closeSync(); instance.closeSync?.();
  });
})().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
"""


def _superset() -> Client:
    folder, error = _pip_target("superset-sqlalchemy", SQLALCHEMY_SUPERSET)
    client = Client("superset", " + ".join(SQLALCHEMY_SUPERSET), skip=error)
    client.command = [sys.executable, "-c", _PYTHON_READER, "<url>", "duckdb-engine"]
    client.env = {"PYTHONPATH": str(folder)}
    return client


def _sqlalchemy2() -> Client:
    folder, error = _pip_target("sqlalchemy2-duckdb-sqlalchemy", SQLALCHEMY_2)
    client = Client("sqlalchemy2", " + ".join(SQLALCHEMY_2) + " (SQLAlchemy of the venv)", skip=error)
    client.command = [sys.executable, "-c", _PYTHON_READER, "<url>", "duckdb-sqlalchemy"]
    client.env = {"PYTHONPATH": str(folder)}
    return client


def _node() -> Client:
    client = Client("node", NODE_API)
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        client.skip = f"node and npm are needed for {NODE_API} (found node={node}, npm={npm})"
        return client
    folder, ready = _cache_dir("node", NODE_API)
    if not ready:
        error = _install(folder, NODE_API, [npm, "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error",
                                            "--prefix", str(folder), NODE_API])
        if error:
            client.skip = f"cannot install {NODE_API} from the npm registry: {error}"
            return client
    script = folder / "reader.cjs"
    script.write_text(_NODE_READER)
    client.command = [node, str(script), "<path>"]
    return client


URLS = {
    # a Superset database URI: duckdb-engine passes the query string to duckdb.connect as config
    "superset": "duckdb:///{path}?access_mode=read_only",
    "sqlalchemy2": "duckdb+duckdb_sqlalchemy:///{path}?access_mode=read_only",
}


def prepare_clients() -> dict[str, Client]:
    """Every client, installed (or with the reason it is skipped)."""
    return {c.name: c for c in (_superset(), _sqlalchemy2(), _node())}


def start(client: Client, path: Path) -> subprocess.Popen:
    url = URLS.get(client.name, "").format(path=path)
    cmd = [{"<path>": str(path), "<url>": url}.get(part, part) for part in client.command]
    env = {**os.environ, **client.env}
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def read_line(proc: subprocess.Popen, key: str) -> dict:
    """The next JSON line of the reader with `key`, or {"error": ...} when it died first."""
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=60)
        return {"error": f"exited {proc.returncode} before '{key}': {proc.stderr.read()[-3000:]}"}
    return json.loads(line)[key]


def finish(proc: subprocess.Popen) -> dict:
    """Ask the reader for its final read with the connection it still holds, and wait for it."""
    proc.stdin.write("stop\n")
    proc.stdin.flush()
    final = read_line(proc, "final")
    out, err = proc.communicate(timeout=120)
    return {"final": final, "returncode": proc.returncode, "stderr": err[-3000:]}


def read_once(client: Client, path: Path) -> dict:
    """Open `path` with a fresh client, read it, and close it again: {"ready": ..., "final": ...}."""
    proc = start(client, path)
    try:
        ready = read_line(proc, "ready")
        if "error" in ready:
            return {"ready": ready, "final": ready, "returncode": proc.returncode}
        return {"ready": ready, **finish(proc)}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
