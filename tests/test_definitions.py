"""Smoke tests of the Dagster code location: it loads, and its asset graph is whole.

No materialization here: these tests only inspect `dagster_project.definitions.defs` and
the dbt manifest it was built from.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from support import REPO_ROOT

PYTHON_ASSETS = {
    "raw_documents": "documents",
    "quarantined_documents": "documents",
    "normalized_documents": "documents",
    "normalize_quarantine": "documents",
    "actor_gazetteer": "extraction",
    "actor_mentions": "extraction",
    "statistics": "extraction",
    "date_mentions": "extraction",
    "sentences": "extraction",
    "claims": "events",
    "event_reports": "events",
    "event_report_actors": "events",
    "events": "events",
}
MARTS = ["dim_document", "dim_actor", "dim_date", "fct_actor_mention", "fct_statistic", "fct_date_mention",
         "bridge_document_actor", "quarantined_documents", "dim_sentence", "fct_event", "fct_event_report",
         "fct_claim", "bridge_event_document", "bridge_event_actor"]


@pytest.fixture(scope="module")
def defs():
    from dagster_project.definitions import defs

    return defs


@pytest.fixture(scope="module")
def specs(defs) -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


@pytest.fixture(scope="module")
def asset_graph(defs):
    return defs.resolve_asset_graph()


@pytest.fixture(scope="module")
def manifest() -> dict:
    from dagster_project.project import dbt_project

    return json.loads(Path(dbt_project().manifest_path).read_text())


def _model_key(node: dict) -> dg.AssetKey:
    """The key WarehouseTranslator gives a model: [layer, name] (layer = models/<layer>/...)."""
    fqn = node["fqn"]
    return dg.AssetKey([fqn[1] if len(fqn) > 2 else "models", node["name"]])


def _models(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_definitions_load_and_validate(defs):
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("build_warehouse")
    assert job is not None
    # DuckDB allows one writer: everything runs in one process, in order.
    assert defs.executor is dg.in_process_executor
    assert set(defs.resources) == {"duckdb", "dbt"}


def test_every_expected_asset_key_exists(specs):
    keys = set(specs)
    expected = {dg.AssetKey(name) for name in PYTHON_ASSETS}
    expected |= {dg.AssetKey(["marts", name]) for name in MARTS}
    expected |= {dg.AssetKey("published_warehouse")}
    missing = expected - keys
    assert not missing, f"missing asset keys: {sorted(k.to_user_string() for k in missing)}"
    # Nothing keyed by the bare dbt model name: dbt models live under their layer.
    assert dg.AssetKey("dim_document") not in keys


def test_every_dbt_model_is_an_asset_keyed_by_layer(manifest, specs):
    models = _models(manifest)
    assert len(models) >= 20, "the manifest should describe staging, intermediate and marts models"
    for node in models:
        key = _model_key(node)
        assert key in specs, f"dbt model {node['unique_id']} has no asset {key.to_user_string()}"
        assert key.path[0] in ("staging", "intermediate", "marts")
        assert specs[key].group_name == f"dbt_{key.path[0]}"


def test_dbt_sources_resolve_to_python_assets_of_the_same_name(manifest, specs, asset_graph):
    sources = list(manifest["sources"].values())
    assert {s["name"] for s in sources} == set(PYTHON_ASSETS), "every raw table is a dbt source"
    for source in sources:
        key = dg.AssetKey(source["name"])
        assert key in specs, f"source {source['name']} does not resolve to an asset"
        # ... and that asset is the Python one (group documents/extraction), not a dbt stub.
        assert specs[key].group_name == PYTHON_ASSETS[source["name"]]
        assert "python" in specs[key].kinds
        assert asset_graph.get(key).is_materializable
    # Each staging model reads its source straight from the Python asset.
    for name in PYTHON_ASSETS:
        staging = dg.AssetKey(["staging", f"stg_{name}"])
        assert dg.AssetKey(name) in {d.asset_key for d in specs[staging].deps}


def test_no_dangling_dependencies(specs, asset_graph):
    """Every upstream dependency of every asset is itself a materializable asset of defs
    (a dbt source without the `asset_key` meta would show up as an external stub here)."""
    keys = set(specs)
    for key, spec in specs.items():
        for dep in spec.deps:
            assert dep.asset_key in keys, f"{key.to_user_string()} depends on unknown {dep.asset_key}"
            assert asset_graph.get(dep.asset_key).is_materializable, (
                f"{key.to_user_string()} depends on {dep.asset_key.to_user_string()}, which is not materializable")
    assert {k for k in asset_graph.get_all_asset_keys()} == keys


def test_lineage_runs_from_raw_files_to_the_published_warehouse(asset_graph):
    upstream = asset_graph.upstream_key_iterator(dg.AssetKey("published_warehouse"))
    ancestors = set(upstream)
    for name in PYTHON_ASSETS:
        assert dg.AssetKey(name) in ancestors
    parents = asset_graph.get(dg.AssetKey("published_warehouse")).parent_keys
    assert parents == {dg.AssetKey(["marts", m]) for m in MARTS}


def test_published_warehouse_waits_for_every_mart(manifest):
    from dagster_project.assets.warehouse import MART_KEYS

    marts_in_dbt = {_model_key(n) for n in _models(manifest) if _model_key(n).path[0] == "marts"}
    assert set(MART_KEYS) == marts_in_dbt


def test_every_asset_has_kinds_and_a_group(specs):
    for key, spec in specs.items():
        assert spec.kinds, f"{key.to_user_string()} has no kinds"
        assert spec.group_name and spec.group_name != "default", f"{key.to_user_string()} has no group"
        if key.path[0] in ("staging", "intermediate", "marts"):
            assert {"dbt", "duckdb"} <= spec.kinds
    for name, group in PYTHON_ASSETS.items():
        assert specs[dg.AssetKey(name)].group_name == group
        assert {"python", "duckdb"} <= specs[dg.AssetKey(name)].kinds
    assert specs[dg.AssetKey("published_warehouse")].group_name == "publish"


def test_model_level_dbt_tests_are_asset_checks(manifest, asset_graph):
    check_keys = set(asset_graph.asset_check_keys)
    model_tests = [n for n in manifest["nodes"].values()
                   if n["resource_type"] == "test" and (n.get("attached_node") or "").startswith("model.")]
    assert len(model_tests) >= 100
    missing = []
    for test in model_tests:
        model = manifest["nodes"][test["attached_node"]]
        if dg.AssetCheckKey(_model_key(model), test["name"]) not in check_keys:
            missing.append(test["name"])
    assert not missing, f"dbt tests without an asset check: {missing[:10]}"
    # The offsets contract is checked on every fact mart.
    for fact in ("fct_actor_mention", "fct_statistic", "fct_date_mention"):
        names = {k.name for k in check_keys if k.asset_key == dg.AssetKey(["marts", fact])}
        assert any(n.startswith("offsets_match_body") for n in names), fact
    # The Python check on ingestion is registered too.
    assert dg.AssetCheckKey(dg.AssetKey("raw_documents"), "every_file_accounted_for") in check_keys


def test_every_dbt_test_is_an_asset_check(manifest, asset_graph):
    """Every dbt test shows in Dagster as an asset check: those on models on the model, the
    tests on the raw sources (_sources.yml) on the Python asset that writes the source
    (enable_source_tests_as_checks; the source `relationships` tests, which depend on two
    sources, attached by warehouse.attach_source_tests), and the singular tests that read several
    models on the one their `meta: dagster: ref` names (dbt/tests/_singular_tests.yml)."""
    check_names = {k.name for k in asset_graph.asset_check_keys}
    tests = [n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    missing = [t for t in tests if t not in check_names]
    assert not missing, f"{len(missing)} dbt tests are not asset checks, e.g. {missing[:3]}"


def test_manifest_is_current_with_the_dbt_project(manifest):
    """Dagster builds the dbt assets from dbt/target/manifest.json: a stale manifest would
    silently drop or invent assets. Regenerate with `dbt parse` in dbt/ (or delete it)."""
    on_disk = {p.stem for p in (REPO_ROOT / "dbt" / "models").rglob("*.sql")}
    in_manifest = {n["name"] for n in _models(manifest)}
    assert on_disk == in_manifest


def test_source_tests_are_checks_of_the_python_assets(defs, asset_graph):
    """A test on a raw source checks the Python asset that writes it (not a dbt node), and a
    relationships test between two sources checks the table it tests, depending on the other."""
    check_keys = set(asset_graph.asset_check_keys)
    on_raw = {k.name for k in check_keys if k.asset_key == dg.AssetKey("raw_documents")}
    assert "source_unique_raw_raw_documents_file_id" in on_raw
    relationship = dg.AssetCheckKey(
        dg.AssetKey("claims"),
        "source_relationships_raw_claims_claimant_actor_id__actor_id__source_raw_actor_gazetteer_")
    assert relationship in check_keys
    from dagster_project.assets.warehouse import warehouse_models

    check_spec = warehouse_models.get_spec_for_check_key(relationship)
    assert dg.AssetKey("actor_gazetteer") in {d.asset_key for d in check_spec.additional_deps}
    # the singular tests that read several models are checks of the model their meta names
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "dim_date"]),
                            "assert_dim_date_is_contiguous_and_covers_bounds") in check_keys
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "fct_event"]),
                            "assert_fct_event_agrees_with_its_reports") in check_keys
