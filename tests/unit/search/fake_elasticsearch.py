"""An in-memory stand-in for the few Elasticsearch endpoints the ticket index calls.

It plugs in under the real client as its HTTP node (``node_class``), so the client's own request building,
serialization, error mapping and bulk helper all run; only the server is fake. It keeps templates,
indices, aliases and documents with external versions (409 when not newer), honours ``require_alias``,
and answers searches with a canned response (it does not evaluate queries: the contract suite does
that against a real server when ``ELASTICSEARCH_URL`` is set). Every request is recorded.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from elastic_transport import ApiResponseMeta, BaseNode, ConnectionError, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: Any


@dataclass
class FakeCluster:
    templates: dict[str, Any] = field(default_factory=dict)
    indices: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"docs", "aliases", "settings"}
    requests: list[Request] = field(default_factory=list)
    down: bool = False
    fail_status: int | None = None
    search_response: dict[str, Any] | None = None

    # helpers for tests ----------------------------------------------------------------------------------
    def alias_targets(self, alias: str) -> list[str]:
        return sorted(name for name, index in self.indices.items() if alias in index["aliases"])

    def doc(self, alias_or_index: str, doc_id: str) -> tuple[int, dict[str, Any]] | None:
        targets = self.alias_targets(alias_or_index) or [alias_or_index]
        return self.indices[targets[0]]["docs"].get(doc_id)

    def client(self) -> Elasticsearch:
        cluster = self

        class Node(FakeNode):
            pass

        Node.cluster = cluster
        return Elasticsearch("http://fake-elasticsearch:9200", node_class=Node, max_retries=0)

    # the server ---------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        if parts[:1] == ["_index_template"]:
            self.templates[parts[1]] = body
            return 200, {"acknowledged": True}
        if parts[:1] == ["_alias"]:
            found = {name: {"aliases": {parts[1]: {}}} for name in self.alias_targets(parts[1])}
            return (200, found) if found else _error(404, "aliases_not_found_exception", f"alias [{parts[1]}] missing")
        if parts == ["_aliases"]:
            for action in body["actions"]:
                (kind, spec), = action.items()
                if spec["index"] not in self.indices:
                    return _error(404, "index_not_found_exception", spec["index"])
                aliases = self.indices[spec["index"]]["aliases"]
                if kind == "add":
                    aliases[spec["alias"]] = {"is_write_index": spec.get("is_write_index", False)}
                else:
                    aliases.pop(spec["alias"], None)
            return 200, {"acknowledged": True}
        if parts == ["_bulk"]:
            return 200, self._bulk(body)
        if len(parts) == 1 and method == "PUT":
            return self._create(parts[0], body or {})
        if len(parts) == 1 and method == "GET":
            matched = {name: {"aliases": index["aliases"]} for name, index in self.indices.items()
                       if fnmatch.fnmatch(name, parts[0])}
            return 200, matched
        if len(parts) == 1 and method == "DELETE":
            self.indices.pop(parts[0], None)
            return 200, {"acknowledged": True}
        if len(parts) == 2 and parts[1] == "_settings":
            self.indices[parts[0]]["settings"].update(body.get("index", {}))
            return 200, {"acknowledged": True}
        if len(parts) == 2 and parts[1] == "_refresh":
            return 200, {"_shards": {"failed": 0}}
        if len(parts) == 2 and parts[1] == "_search":
            if not self.alias_targets(parts[0]) and parts[0] not in self.indices:
                return _error(404, "index_not_found_exception", parts[0])
            return 200, self.search_response or {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}
        if len(parts) == 3 and parts[1] == "_doc":
            if method == "DELETE":
                target = self._target(parts[0])
                if target is None or self.indices[target]["docs"].pop(parts[2], None) is None:
                    return _error(404, "not_found", parts[2])
                return 200, {"result": "deleted"}
            return self._index(parts[0], parts[2], body, params)
        return _error(400, "unsupported_in_fake", f"{method} {path}")

    def _create(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        if name in self.indices:
            return _error(400, "resource_already_exists_exception", f"index [{name}] already exists")
        self.indices[name] = {
            "docs": {},
            "aliases": dict(body.get("aliases", {})),
            "settings": dict(body.get("settings", {}).get("index", {})),
            "templated": [t for t, spec in self.templates.items()
                          if any(fnmatch.fnmatch(name, p) for p in spec["index_patterns"])],
        }
        return 200, {"acknowledged": True, "index": name}

    def _target(self, name: str) -> str | None:
        targets = self.alias_targets(name)
        if targets:
            return next((t for t in targets if self.indices[t]["aliases"][name].get("is_write_index")), targets[0])
        return name if name in self.indices else None

    def _index(self, name: str, doc_id: str, body: Any, params: dict[str, str]) -> tuple[int, Any]:
        if params.get("require_alias") == "true" and not self.alias_targets(name):
            return _error(404, "index_not_found_exception", f"no such index [{name}] and [require_alias] is true")
        target = self._target(name)
        if target is None:
            return _error(404, "index_not_found_exception", name)
        version = int(params.get("version", 1))
        current = self.indices[target]["docs"].get(doc_id)
        if params.get("version_type") == "external" and current is not None and current[0] >= version:
            return _error(409, "version_conflict_engine_exception", f"current [{current[0]}], provided [{version}]")
        self.indices[target]["docs"][doc_id] = (version, body)
        return 201, {"_id": doc_id, "_version": version, "result": "created" if current is None else "updated"}

    def _bulk(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        items, errors = [], False
        pairs = iter(lines)
        for action in pairs:
            (op, meta), = action.items()
            source = next(pairs)
            params = {k: str(v) for k, v in meta.items() if k in ("version", "version_type")}
            status, answer = self._index(meta["_index"], meta["_id"], source, params)
            if status >= 300:
                errors = True
                items.append({op: {"_id": meta["_id"], "status": status, "error": answer["error"]}})
            else:
                items.append({op: {"_id": meta["_id"], "status": status, "result": answer["result"]}})
        return {"errors": errors, "items": items, "took": 1}


def _error(status: int, kind: str, reason: str) -> tuple[int, Any]:
    error = {"type": kind, "reason": reason, "root_cause": [{"type": kind, "reason": reason}]}
    return status, {"error": error, "status": status}


class FakeNode(BaseNode):
    cluster: FakeCluster

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None) -> NodeApiResponse:
        split = urlsplit(target)
        params = {k: v[-1] for k, v in parse_qs(split.query).items()}
        decoded: Any = None
        if body:
            text = body.decode("utf-8")
            if split.path.endswith("/_bulk"):
                decoded = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                decoded = json.loads(text)
        self.cluster.requests.append(Request(method, split.path, params, decoded))
        if self.cluster.down:
            raise ConnectionError("connection refused (fake cluster is down)")
        if self.cluster.fail_status is not None:
            status, answer = _error(self.cluster.fail_status, "unavailable", "fake failure")
        else:
            status, answer = self.cluster.handle(method, split.path, params, decoded)
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders({"content-type": "application/json", "x-elastic-product": "Elasticsearch"}),
            duration=0.0,
            node=self.config,
        )
        return NodeApiResponse(meta, json.dumps(answer).encode("utf-8"))
