"""The code location loads, and every asset is described and grouped."""

from __future__ import annotations

import dagster as dg

from outcome_pipeline.definitions import defs


def test_definitions_load_and_assets_are_described() -> None:
    d = defs()
    dg.Definitions.validate_loadable(d)
    graph = d.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "stg_interactions",
        "stg_customers",
        "stg_cases",
        "stg_subscription_events",
        "stg_survey_responses",
    } <= keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 40, key
        assert node.group_name and node.group_name != "default", key
        assert node.partitions_def is not None, key
    for name in ("warehouse", "landing"):
        assert name in d.resources
