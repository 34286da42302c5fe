#!/usr/bin/env python
"""Smoke-check a running Dagster UI: the code location loaded and the asset graph is whole.

    .venv/bin/dagster dev -p 3000            # in another shell (reads workspace.yaml)
    python scripts/ui_smoke.py [URL] [--wait 120] [--allow-disconnected]

Standard library only, so it runs with any Python 3.9+ against any webserver. It asks
the webserver's GraphQL endpoint (URL defaults to http://127.0.0.1:3000) for:

1. the workspace: every code location must be LOADED (a load error is printed in full);
2. the repositories: at least one must be served;
3. every asset node with its dependency keys and group, and then prints the asset count,
   the assets per group, the dependency keys that are not themselves asset nodes
   (dangling), and how many weakly connected pieces the graph has.

Exit 0 when all is well, 1 on any problem: the server can't be reached (after waiting
up to --wait seconds for /server_info), a GraphQL error, a location that didn't load,
no assets, a dangling dependency key, or a graph in more than one piece (the code
location is meant to be one graph from the raw files to the published warehouse;
--allow-disconnected turns that last check off).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict

WORKSPACE_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message stack }
  }
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } } }
    ... on PythonError { message }
  }
}
"""

ASSETS_QUERY = """
{
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    groupName
    kinds
  }
}
"""


def graphql(base_url: str, query: str, timeout: float = 60) -> dict:
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = json.load(response)
    if body.get("errors"):
        raise RuntimeError("GraphQL errors: " + json.dumps(body["errors"], indent=2))
    return body["data"]


def wait_for_server(base_url: str, wait: float) -> dict:
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/server_info", timeout=10) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError) as exc:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{base_url}/server_info did not answer: {exc}") from exc
            time.sleep(2)


def key_str(path: list[str]) -> str:
    return "/".join(path)


def check_workspace(data: dict) -> list[str]:
    problems = []
    workspace = data["workspaceOrError"]
    if workspace["__typename"] != "Workspace":
        return [f"workspaceOrError is {workspace['__typename']}: {workspace.get('message')}"
                + "".join(workspace.get("stack") or [])]
    entries = workspace["locationEntries"]
    if not entries:
        problems.append("the workspace has no code locations")
    for entry in entries:
        location = entry["locationOrLoadError"] or {}
        kind = location.get("__typename")
        if entry["loadStatus"] != "LOADED" or kind != "RepositoryLocation":
            detail = ""
            if kind == "PythonError":
                detail = location.get("message", "") + "".join(location.get("stack") or [])
            problems.append(f"code location {entry['name']!r}: status {entry['loadStatus']}, {kind}\n{detail}".rstrip())
        else:
            repos = ", ".join(r["name"] for r in location["repositories"]) or "none"
            print(f"code location {entry['name']}: LOADED (repositories: {repos})")
    repositories = data["repositoriesOrError"]
    if repositories["__typename"] != "RepositoryConnection":
        problems.append(f"repositoriesOrError is {repositories['__typename']}: {repositories.get('message')}")
    elif not repositories["nodes"]:
        problems.append("no repositories are served")
    return problems


def check_assets(nodes: list[dict], allow_disconnected: bool) -> list[str]:
    problems = []
    keys = {key_str(n["assetKey"]["path"]) for n in nodes}
    groups = Counter(n["groupName"] or "(no group)" for n in nodes)
    print(f"assets: {len(nodes)} in {len(groups)} groups")
    for group, count in sorted(groups.items()):
        print(f"  {group}: {count}")
    if not nodes:
        problems.append("no asset nodes")

    neighbours: dict[str, set[str]] = defaultdict(set)
    dangling: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        key = key_str(node["assetKey"]["path"])
        neighbours.setdefault(key, set())
        for dep in node["dependencyKeys"]:
            dep_key = key_str(dep["path"])
            if dep_key not in keys:
                dangling[dep_key].append(key)
            neighbours[key].add(dep_key)
            neighbours[dep_key].add(key)
    if dangling:
        print("dangling dependency keys (not asset nodes):")
        for dep_key, users in sorted(dangling.items()):
            print(f"  {dep_key}  <- needed by {', '.join(sorted(users))}")
        problems.append(f"{len(dangling)} dangling dependency key(s)")
    else:
        print("dangling dependency keys: none")

    pieces: list[set[str]] = []
    seen: set[str] = set()
    for start in sorted(keys):
        if start in seen:
            continue
        piece, stack = set(), [start]
        while stack:
            key = stack.pop()
            if key not in piece:
                piece.add(key)
                stack.extend(neighbours[key] - piece)
        seen |= piece
        pieces.append(piece & keys)
    roots = sorted(key_str(n["assetKey"]["path"]) for n in nodes if not n["dependencyKeys"])
    used = {key_str(d["path"]) for n in nodes for d in n["dependencyKeys"]}
    print(f"roots: {', '.join(roots)}")
    print(f"sinks: {', '.join(sorted(keys - used))}")
    if len(pieces) == 1:
        print("graph: connected (1 piece)")
    elif pieces:
        print(f"graph: {len(pieces)} disconnected pieces")
        for piece in sorted(pieces, key=len, reverse=True):
            print(f"  {len(piece)} assets: {', '.join(sorted(piece)[:8])}{' ...' if len(piece) > 8 else ''}")
        if not allow_disconnected:
            problems.append(f"the asset graph is in {len(pieces)} pieces")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:3000", help="the running UI")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the server to answer")
    parser.add_argument("--allow-disconnected", action="store_true",
                        help="don't fail when the asset graph is in more than one piece")
    args = parser.parse_args(argv)
    base_url = args.url.rstrip("/")

    try:
        info = wait_for_server(base_url, args.wait)
        print(f"server: {base_url} (dagster {info.get('dagster_version')}, "
              f"webserver {info.get('dagster_webserver_version')})")
        problems = check_workspace(graphql(base_url, WORKSPACE_QUERY))
        if not problems:
            problems += check_assets(graphql(base_url, ASSETS_QUERY)["assetNodes"], args.allow_disconnected)
    except (RuntimeError, OSError, ValueError, KeyError, TypeError) as exc:
        problems = [f"{type(exc).__name__}: {exc}"]

    if problems:
        print("FAIL", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
