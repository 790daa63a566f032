"""Strict mode: every X API request checked against one OpenAPI spec, as X's API playground does.

The path must be one of the spec's paths with that method; every query parameter must be declared for
the operation, with a value its schema allows (array items against their `enum` or `pattern`, integers
against `minimum`/`maximum`, strings against `enum`, `pattern`, lengths and `date-time`); required
parameters must be present; path parameters must match their patterns; a JSON body must validate
against the operation's request body schema (jsonschema). The first problem answers a 400 that names
the parameter, e.g. "invalid value 'author_id' at index 0 for parameter 'post.fields' (OpenAPI 2.167)".

The spec is read from `<spec_dir>/openapi-<version>.json`; the package ships none.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:x-openapi"
VERSIONS = ("2.159", "2.167")


class StrictSpecError(ValueError):
    """The spec asked for cannot be used (unknown version, missing file)."""


class Refusal(ValueError):
    def __init__(self, parameter: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.status = status


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class StrictSpec:
    def __init__(self, spec: dict[str, Any], version: str) -> None:
        self.spec = spec
        self.version = version
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        routes = []
        for template in spec.get("paths", {}):
            names = re.findall(r"\{([^}]+)\}", template)
            regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$")
            routes.append((len(names), template, regex, names))
        routes.sort(key=lambda r: r[0])  # literal segments win over parameters (/2/users/me)
        self.routes = [(template, regex, names) for _n, template, regex, names in routes]
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for key in node["$ref"].lstrip("#/").split("/"):
                target = target[key.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def check(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        """Raise Refusal for the first way the request departs from the spec."""
        method = method.lower()
        for template, regex, names in self.routes:
            m = regex.match(path)
            if m is None:
                continue
            operation = self.spec["paths"][template].get(method)
            if operation is None:
                continue
            self._check_operation(
                template, method, operation, dict(zip(names, m.groups(), strict=True)), query
            )
            if body is not None and "requestBody" in operation:
                self._check_body(template, method, body)
            return
        raise Refusal("path", f"{method.upper()} {path} is not an endpoint of OpenAPI {self.version}", 404)

    def _parameters(self, template: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
        shared = self.spec["paths"][template].get("parameters", [])
        return [self.resolve(p) for p in [*shared, *operation.get("parameters", [])]]

    def _check_operation(
        self,
        template: str,
        method: str,
        operation: dict[str, Any],
        path_values: dict[str, str],
        query: dict[str, str],
    ) -> None:
        params = self._parameters(template, operation)
        declared = {p["name"]: p for p in params if p.get("in") == "query"}
        for name in query:
            if name not in declared:
                allowed = ",".join(sorted(declared)) or "none"
                raise Refusal(
                    name,
                    f"The query parameter [{name}] is not one of [{allowed}] (OpenAPI {self.version})",
                )
        for p in params:
            name = p["name"]
            where = p.get("in")
            value = (
                query.get(name) if where == "query" else path_values.get(name) if where == "path" else None
            )
            if value is None:
                if p.get("required") and where in ("query", "path"):
                    raise Refusal(name, f"The `{name}` parameter is required (OpenAPI {self.version})")
                continue
            self._check_value(name, value, self.resolve(p.get("schema", {})))

    def _check_value(self, name: str, value: str, schema: dict[str, Any]) -> None:
        if schema.get("type") == "array":
            items = [v.strip() for v in value.split(",")]
            if len(items) < schema.get("minItems", 0) or (
                "maxItems" in schema and len(items) > schema["maxItems"]
            ):
                raise Refusal(
                    name, f"The `{name}` parameter has {len(items)} items, outside the spec's bounds"
                )
            item_schema = self.resolve(schema.get("items", {}))
            for i, item in enumerate(items):
                problem = self._scalar_problem(item, item_schema)
                if problem:
                    raise Refusal(
                        name,
                        f"invalid value '{item}' at index {i} for parameter '{name}' "
                        f"(OpenAPI {self.version}): {problem}",
                    )
            return
        problem = self._scalar_problem(value, schema)
        if problem:
            raise Refusal(
                name, f"invalid value '{value}' for parameter '{name}' (OpenAPI {self.version}): {problem}"
            )

    def _scalar_problem(self, value: str, schema: dict[str, Any]) -> str | None:
        kind = schema.get("type", "string")
        if kind in ("integer", "number"):
            try:
                number = int(value) if kind == "integer" else float(value)
            except ValueError:
                return f"must be an {kind}"
            if "minimum" in schema and number < schema["minimum"]:
                return f"must be at least {schema['minimum']}"
            if "maximum" in schema and number > schema["maximum"]:
                return f"must be at most {schema['maximum']}"
            return None
        if kind == "boolean":
            return None if value in ("true", "false") else "must be true or false"
        if "enum" in schema and value not in schema["enum"]:
            return "must be one of [" + ", ".join(str(e) for e in schema["enum"]) + "]"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"does not match {schema['pattern']}"
        if len(value) < schema.get("minLength", 0):
            return f"must have at least {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"must have at most {schema['maxLength']} characters"
        if schema.get("format") == "date-time":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return "must be an RFC 3339 date-time"
        return None

    def _check_body(self, template: str, method: str, body: Any) -> None:
        key = (template, method)
        validator = self._validators.get(key)
        if validator is None:
            pointer = "/".join(
                [
                    "#",
                    "paths",
                    _escape(template),
                    method,
                    "requestBody",
                    "content",
                    "application~1json",
                    "schema",
                ]
            )
            validator = Draft202012Validator({"$ref": SPEC_URI + pointer}, registry=self.registry)
            self._validators[key] = validator
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            error = errors[0]
            where = ".".join(str(p) for p in error.absolute_path) or "body"
            raise Refusal(
                where, f"invalid request body at '{where}' (OpenAPI {self.version}): {error.message}"
            )


def spec_path(version: str, spec_dir: str | None) -> Path:
    if version not in VERSIONS:
        raise StrictSpecError(f"strict_spec must be one of {', '.join(VERSIONS)} (or null to turn it off)")
    if not spec_dir:
        raise StrictSpecError(
            "strict mode needs spec_dir: the folder holding openapi-<version>.json "
            "(e.g. ../shared/reference/x-openapi)"
        )
    path = Path(spec_dir) / f"openapi-{version}.json"
    if not path.is_file():
        raise StrictSpecError(f"{path} does not exist: point spec_dir at the folder holding it")
    return path


@lru_cache(maxsize=4)
def _load(path: Path, version: str) -> StrictSpec:
    return StrictSpec(json.loads(path.read_text(encoding="utf-8")), version)


def load(version: str, spec_dir: str | None) -> StrictSpec:
    """The validator for `version`, read from `spec_dir` once per process."""
    return _load(spec_path(version, spec_dir), version)
