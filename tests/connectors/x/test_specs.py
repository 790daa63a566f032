"""The spellings table (connectors/x/specs.py) against both OpenAPI spec files, and the respelling of
what a 400 names, in both specs' problem shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flockdesk.connectors.base import Degradation
from flockdesk.connectors.x import specs


def _spec(shared_dir: Path, version: str) -> dict[str, Any]:
    path = shared_dir / "reference" / "x-openapi" / f"openapi-{version}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for key in node["$ref"].lstrip("#/").split("/"):
            target = target[key]
        node = target
    return node


def _query_enums(spec: dict[str, Any], path: str) -> dict[str, set[str] | None]:
    """Each query parameter of GET `path`: its allowed list items (None: not an enum list)."""
    out: dict[str, set[str] | None] = {}
    for raw in spec["paths"][path]["get"].get("parameters", []):
        p = _resolve(spec, raw)
        if p.get("in") != "query":
            continue
        schema = _resolve(spec, p.get("schema", {}))
        items = _resolve(spec, schema.get("items", {})) if schema.get("type") == "array" else {}
        out[p["name"]] = set(items["enum"]) if "enum" in items else None
    return out


@pytest.mark.parametrize("version", specs.SPECS)
def test_every_spelling_is_allowed_by_its_spec(shared_dir: Path, version: str) -> None:
    spec = _spec(shared_dir, version)
    assert spec["info"]["version"] == version
    for endpoint, params in specs.SPELLINGS[version].items():
        declared = _query_enums(spec, specs.PATHS[endpoint])
        for name, values in params.items():
            assert name in declared, f"{version} {endpoint}: {name} is not a query parameter"
            allowed = declared[name]
            assert allowed is not None
            assert set(values) <= allowed, f"{version} {endpoint} {name}: {set(values) - allowed}"


def test_what_2_167_lacks_as_a_field_is_asked_for_as_an_expansion(shared_dir: Path) -> None:
    old, new = _spec(shared_dir, "2.159"), _spec(shared_dir, "2.167")
    for endpoint in specs.PATHS:
        before = specs.SPELLINGS["2.159"][endpoint]
        after = specs.SPELLINGS["2.167"][endpoint]
        old_param = "dm_event.fields" if endpoint == "dm_events" else "tweet.fields"
        new_param = "dm_event.fields" if endpoint == "dm_events" else "post.fields"
        new_fields = _query_enums(new, specs.PATHS[endpoint])[new_param]
        assert new_fields is not None
        gone = set(before[old_param]) - new_fields
        assert gone, f"{endpoint}: 2.167 is expected to lack some of 2.159's fields"
        asked = set(after[new_param]) | {
            "referenced_tweets" if e == "referenced_posts" else e for e in after.get("expansions", ())
        }
        assert gone <= asked, f"{endpoint}: {gone - asked} is neither a field nor an expansion"
        # and the old spelling would be refused by the new spec (the table is needed at all)
        assert old_param == new_param or old_param not in _query_enums(new, specs.PATHS[endpoint])
        assert _query_enums(old, specs.PATHS[endpoint])[old_param] is not None


def test_2_159_problem_shape_names_the_value() -> None:
    body = {
        "title": "Invalid Request",
        "type": "https://api.twitter.com/2/problems/invalid-request",
        "detail": "One or more parameters to your request was invalid.",
        "errors": [
            {
                "parameters": {"post.fields": ["invalid value 'author_id' at index 0 for parameter"]},
                "message": "invalid value 'author_id' at index 0 for parameter 'post.fields' (OpenAPI 2.167)",
            }
        ],
    }
    assert specs.refused(body) == (
        "post.fields",
        "author_id",
        "invalid value 'author_id' at index 0 for parameter 'post.fields' (OpenAPI 2.167)",
    )
    listed = {"errors": [{"parameters": {"expansions": ["referenced_tweets.id"]}, "message": "bad"}]}
    assert specs.refused(listed) == ("expansions", "referenced_tweets.id", "bad")
    whole = {
        "errors": [
            {
                "parameters": {"tweet.fields": ["x"]},
                "message": "The query parameter [tweet.fields] is not one of [post.fields]",
            }
        ]
    }  # noqa: E501
    assert specs.refused(whole) == ("tweet.fields", "x", whole["errors"][0]["message"])


def test_2_167_problem_shape_is_flat() -> None:
    body = {
        "type": "https://api.x.com/2/problems/invalid-request",
        "title": "Invalid Request",
        "detail": "invalid value 'sender_id' for dm_event.fields",
        "parameter": "dm_event.fields",
        "value": "sender_id",
    }
    assert specs.refused(body) == ("dm_event.fields", "sender_id", body["detail"])
    assert specs.refused({"title": "Forbidden", "detail": "no"}) is None
    assert specs.refused("not json") is None


def test_a_refused_field_moves_to_expansions_and_a_refused_name_is_respelled() -> None:
    wanted = specs.base_params("2.159", "mentions")
    done: list[Degradation] = []
    step = specs.degrade(wanted, done, "tweet.fields", None, "unknown parameter")
    assert step == Degradation("tweet.fields", None, "post.fields", "unknown parameter")
    done.append(step)
    step = specs.degrade(wanted, done, "post.fields", "referenced_tweets", "invalid value")
    assert step is not None and step.replacement == "expansions=referenced_posts"
    done.append(step)
    params = specs.apply(wanted, done)
    assert "tweet.fields" not in params and "referenced_tweets" not in params["post.fields"]
    assert params["expansions"] == ("author_id", "referenced_posts")
    # the replacement refused in turn: the next spelling, then nothing
    step = specs.degrade(wanted, done, "expansions", "referenced_posts", "invalid value")
    assert step is not None and step.replacement == "expansions=referenced_tweets.id"
    done.append(step)
    step = specs.degrade(wanted, done, "expansions", "referenced_tweets.id", "invalid value")
    assert step == Degradation("expansions", "referenced_tweets.id", None, "invalid value")
    done.append(step)
    assert "referenced_tweets.id" not in specs.apply(wanted, done)["expansions"]
    # asked again for the same thing: no progress is possible
    assert specs.degrade(wanted, done, "expansions", "referenced_tweets.id", "again") is None
    # a parameter this read does not send is not ours to change
    assert specs.degrade(wanted, done, "since_id", None, "bad id") is None


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="2.159, 2.167"):
        specs.check_spec("2.0")
