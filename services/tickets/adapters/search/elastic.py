"""The Elasticsearch ticket index, used when ``ELASTICSEARCH_URL`` is set.

(Over 400 lines on purpose: one adapter of one port, whose mapping, query builders and client calls must
agree with each other; split, a reader would hold three files to check one field.)

Layout: an index template (``<alias>``) gives every ``<alias>-v<N>`` index the mappings and analyzers;
the alias ``<alias>`` (default ``tickets``) points at the live one, and ``reindex`` builds ``v<N+1>``
from the database and swaps the alias in one atomic ``_aliases`` call. Writes go through the alias with
``require_alias`` so that a missing alias never auto-creates a stray concrete index.

Analysis: text fields are split like the embedded index does (runs of letters and digits) and folded
(lower case, ASCII), so words, phrases, prefixes and accents behave the same; ``.es`` and ``.en``
sub-fields add Spanish and English stop words and stemming, so ``impresoras`` also finds ``impresora``.

Feeding: the tickets service consumes its own ``ticket.*`` events and copies the ticket's current row
(``feed.sync_ticket``) with ``version_type=external`` and the ticket's version: a stale or repeated event
gets 409 from Elasticsearch, which means "already newer" and counts as done. A deleted ticket becomes a
tombstone (``deleted: true``) at its final version, so a late event can never bring it back.

Failure: a write that cannot reach Elasticsearch raises, so the event is retried and then dead-lettered,
never lost (replay it, or run ``reindex``). A search that cannot reach it raises ``SearchUnavailable``
(503 at the gateway); ticket writes never touch Elasticsearch, so they go on working.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from elasticsearch import (
    ApiError,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)

from services.tickets.domain.errors import SearchUnavailable
from services.tickets.domain.rules import Actor
from services.tickets.domain.search.highlight import END, START, best
from services.tickets.domain.search.port import SearchDocument, SearchResult
from services.tickets.domain.search.query import SearchQuery, Term, parse

log = logging.getLogger(__name__)

DEFAULT_ALIAS = "tickets"
SNIPPET_CHARS = 160
MAX_PHRASE_PREFIX_EXPANSIONS = 200

ANALYSIS: dict[str, Any] = {
    "tokenizer": {
        # the embedded index's words: runs of letters and digits (``e-mail`` is ``e`` + ``mail``)
        "words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"},
    },
    "filter": {
        "spanish_stop": {"type": "stop", "stopwords": "_spanish_"},
        "spanish_stemmer": {"type": "stemmer", "language": "light_spanish"},
        "english_stop": {"type": "stop", "stopwords": "_english_"},
        "english_stemmer": {"type": "stemmer", "language": "english"},
    },
    "analyzer": {
        "folded": {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding"]},
        # folding before stemming: "cámaras" and "camaras" reach the stemmer as the same word
        "spanish_folded": {
            "type": "custom", "tokenizer": "words",
            "filter": ["lowercase", "asciifolding", "spanish_stop", "spanish_stemmer"],
        },
        "english_folded": {
            "type": "custom", "tokenizer": "words",
            "filter": ["lowercase", "asciifolding", "english_stop", "english_stemmer"],
        },
    },
}


def _text(*, raw: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "es": {"type": "text", "analyzer": "spanish_folded"},
        "en": {"type": "text", "analyzer": "english_folded"},
    }
    if raw:
        fields["raw"] = {"type": "keyword", "ignore_above": 256}
    return {"type": "text", "analyzer": "folded", "fields": fields}


_KEYWORD = {"type": "keyword"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "number": {"type": "text", "analyzer": "folded", "fields": {"raw": _KEYWORD}},
        "title": _text(raw=True),
        "description": _text(),
        "comments": _text(),
        "internal_notes": _text(),
        "tags": {"type": "keyword", "fields": {"text": {"type": "text", "analyzer": "folded"}}},
        "status": _KEYWORD,
        "priority": _KEYWORD,
        "requester_id": _KEYWORD,
        "assignee_id": _KEYWORD,
        "department_id": _KEYWORD,
        "organization_id": _KEYWORD,
        "category": _KEYWORD,
        "source": _KEYWORD,
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "version": {"type": "long"},
        "deleted": {"type": "boolean"},
    },
}

# (field, boost): number and title above tags, above description and replies, above internal notes
PUBLIC_FIELDS = (("number", 10.0), ("title", 10.0), ("tags.text", 4.0), ("description", 1.0), ("comments", 1.0))
STAFF_FIELDS = (*PUBLIC_FIELDS, ("internal_notes", 0.5))
_STEMMED = {"title", "description", "comments", "internal_notes"}

SORT_FIELDS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "priority": "priority",
    "status": "status",
    "number": "number.raw",
    "title": "title.raw",
}


def make_client(url: str, *, timeout: float = 5.0) -> Elasticsearch:
    """Create a client that gives up quickly: a search waits for it, and an event is retried anyway."""
    return Elasticsearch(url, request_timeout=timeout, max_retries=1, retry_on_timeout=False)


# queries (pure: unit-tested without a server) --------------------------------------------------------

def _sees_internal(actor: Actor) -> bool:
    return actor.is_staff or actor.role == "system"


def _fields(staff: bool, *, stemmed: bool) -> list[str]:
    out = []
    for name, boost in STAFF_FIELDS if staff else PUBLIC_FIELDS:
        out.append(f"{name}^{boost:g}")
        if stemmed and name in _STEMMED:
            out.extend((f"{name}.es^{boost:g}", f"{name}.en^{boost:g}"))
    return out


def term_query(term: Term, *, staff: bool) -> dict[str, Any]:
    """Return the clause one term must satisfy in at least one searchable field."""
    if not term.prefix:
        return {"multi_match": {"query": term.text, "type": "phrase", "fields": _fields(staff, stemmed=True)}}
    if len(term.words) == 1:
        # a prefix query is not analysed: the word is already folded, and it expands to every match
        return {
            "bool": {
                "should": [
                    {"prefix": {name: {"value": term.words[0], "boost": boost}}}
                    for name, boost in (STAFF_FIELDS if staff else PUBLIC_FIELDS)
                ],
                "minimum_should_match": 1,
            }
        }
    return {
        "multi_match": {
            "query": term.text,
            "type": "phrase_prefix",
            "fields": _fields(staff, stemmed=False),
            "max_expansions": MAX_PHRASE_PREFIX_EXPANSIONS,
        }
    }


def visibility_filter(actor: Actor) -> dict[str, Any] | None:
    """The Elasticsearch twin of ``repository.visibility_clause``."""
    if actor.role == "system" or actor.is_manager:
        return None
    if actor.is_staff:
        mine: list[dict[str, Any]] = [{"bool": {"must_not": {"exists": {"field": "department_id"}}}}]
        if actor.department_id:
            mine.append({"term": {"department_id": actor.department_id}})
        if actor.id:
            mine.append({"term": {"assignee_id": actor.id}})
        return {"bool": {"should": mine, "minimum_should_match": 1}}
    if actor.id is None:
        return {"match_none": {}}
    if actor.organization_shared and actor.role == "customer" and actor.organization_id:
        # Elasticsearch cannot read the organizations projection: the handler resolves the flag first
        return {"bool": {"should": [{"term": {"requester_id": actor.id}},
                                    {"term": {"organization_id": actor.organization_id}}],
                         "minimum_should_match": 1}}
    return {"term": {"requester_id": actor.id}}


def list_filters(filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Elasticsearch twin of the list's filters (``SqlAlchemyTicketRepository.conditions``)."""
    out: list[dict[str, Any]] = []
    for field in ("status", "priority", "department_id", "requester_id", "category", "source"):
        value = filters.get(field)
        if value:
            out.append({"terms": {field: list(value)}} if isinstance(value, list) else {"term": {field: value}})
    assignee = filters.get("assignee_id")
    if assignee == "none":
        out.append({"bool": {"must_not": {"exists": {"field": "assignee_id"}}}})
    elif assignee:
        out.append({"term": {"assignee_id": assignee}})
    if filters.get("tag"):
        out.append({"term": {"tags": filters["tag"]}})
    created: dict[str, str] = {}
    for key, bound in (("created_from", "gte"), ("created_to", "lte")):
        value = filters.get(key)
        if value:
            created[bound] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if created:
        out.append({"range": {"created_at": created}})
    return out


def search_query(query: SearchQuery, *, visibility: Actor, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``query`` of a search request: every term, visible tickets only, the list's filters."""
    staff = _sees_internal(visibility)
    filter_clauses: list[dict[str, Any]] = [{"term": {"deleted": False}}]
    visible = visibility_filter(visibility)
    if visible is not None:
        filter_clauses.append(visible)
    filter_clauses.extend(list_filters(filters))
    return {"bool": {"must": [term_query(term, staff=staff) for term in query.terms], "filter": filter_clauses}}


def sort_clause(sort: tuple[str, str] | None) -> list[dict[str, Any]]:
    """Relevance then recency, or a list sort field with the id as tie-breaker."""
    if sort is None:
        return [{"_score": {"order": "desc"}}, {"updated_at": {"order": "desc"}}, {"id": {"order": "asc"}}]
    field, direction = sort
    return [{SORT_FIELDS[field]: {"order": direction}}, {"id": {"order": direction}}]


def highlight_clause(*, staff: bool) -> dict[str, Any]:
    """Highlight public text (and internal notes for staff only); a plain excerpt when nothing is marked."""
    fragment = {"number_of_fragments": 1, "fragment_size": SNIPPET_CHARS}
    fields: dict[str, Any] = {"description": {**fragment, "no_match_size": SNIPPET_CHARS}, "comments": fragment}
    if staff:
        fields["internal_notes"] = fragment
    fields["title"] = {"number_of_fragments": 0}
    # the query's words are marked wherever they occur, also when they matched a stemmed sub-field
    return {"pre_tags": [START], "post_tags": [END], "require_field_match": False, "fields": fields}


def source_of(doc: SearchDocument) -> dict[str, Any]:
    """Return the indexed JSON of a document."""
    return {
        "id": doc.id,
        "number": doc.number,
        "title": doc.title,
        "description": doc.description,
        "comments": doc.comments,
        "internal_notes": doc.internal_notes,
        "tags": list(doc.tags),
        "status": doc.status,
        "priority": doc.priority,
        "requester_id": doc.requester_id,
        "assignee_id": doc.assignee_id,
        "department_id": doc.department_id,
        "organization_id": doc.organization_id,
        "category": doc.category,
        "source": doc.source,
        "created_at": doc.created_at.isoformat(),
        "updated_at": doc.updated_at.isoformat(),
        "version": doc.version,
        "deleted": False,
    }


def _tombstone(ticket_id: str, version: int) -> dict[str, Any]:
    return {"id": ticket_id, "version": version, "deleted": True}


def _error_type(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    return error.get("type", "") if isinstance(error, dict) else str(exc.message)


# the adapter ------------------------------------------------------------------------------------------

class ElasticsearchTicketSearchIndex:
    """Tickets in Elasticsearch, behind an alias."""

    def __init__(self, client: Elasticsearch, *, alias: str = DEFAULT_ALIAS, refresh: bool | str = False):
        self.client = client
        self.alias = alias
        self.refresh = refresh or None  # tests ask for "wait_for"; production lets refresh_interval do it

    # layout -------------------------------------------------------------------------------------------
    def install_template(self) -> None:
        """Create or update the index template of ``<alias>-v*`` (applies to indices created later)."""
        self.client.indices.put_index_template(
            name=self.alias,
            index_patterns=[f"{self.alias}-v*"],
            priority=100,
            template={"settings": {"number_of_shards": 1, "analysis": ANALYSIS}, "mappings": MAPPINGS},
            meta={"owner": "tickets", "description": "Ticket full-text search"},
        )

    def aliased_indices(self) -> list[str]:
        """Return the indices the alias points at (none before the first bootstrap)."""
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def ensure_index(self) -> str:
        """Install the template and, if the alias is missing, create the first index behind it."""
        self.install_template()
        current = self.aliased_indices()
        if current:
            return current[0]
        name = self._next_index_name()
        try:
            self.client.indices.create(index=name, aliases={self.alias: {"is_write_index": True}})
        except BadRequestError as exc:
            if _error_type(exc) != "resource_already_exists_exception":
                raise
            log.info("another process created %s first", name)
        return (self.aliased_indices() or [name])[0]

    def create_index(self) -> str:
        """Create the next ``<alias>-v<N>`` for a bulk load (no refresh until ``finish_bulk``)."""
        name = self._next_index_name()
        self.client.indices.create(index=name, settings={"index": {"refresh_interval": "-1"}})
        return name

    def finish_bulk(self, name: str) -> None:
        """Give a bulk-loaded index its normal refresh interval and make its documents searchable."""
        self.client.indices.put_settings(index=name, settings={"index": {"refresh_interval": None}})
        self.client.indices.refresh(index=name)

    def swap_alias(self, name: str) -> list[str]:
        """Point the alias at ``name`` alone, atomically; return the indices it pointed at before."""
        previous = self.aliased_indices()
        actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": self.alias}} for old in previous if old != name]
        actions.append({"add": {"index": name, "alias": self.alias, "is_write_index": True}})
        self.client.indices.update_aliases(actions=actions)
        return [old for old in previous if old != name]

    def _next_index_name(self) -> str:
        pattern = re.compile(rf"^{re.escape(self.alias)}-v(\d+)$")
        existing = self.client.indices.get(index=f"{self.alias}-v*", expand_wildcards="all").body
        numbers = [int(m.group(1)) for name in existing if (m := pattern.match(name))]
        return f"{self.alias}-v{max(numbers, default=0) + 1}"

    # writing ------------------------------------------------------------------------------------------
    def index(self, doc: SearchDocument) -> None:
        """Store ``doc`` unless the index already holds this version or a newer one."""
        self._write(doc.id, source_of(doc), doc.version)

    def delete(self, ticket_id: str, *, version: int | None = None) -> None:
        """Replace the ticket by a tombstone at ``version``, or (no version) remove it outright."""
        if version is not None:
            self._write(ticket_id, _tombstone(ticket_id, version), version)
            return
        try:
            self.client.delete(index=self.alias, id=ticket_id, refresh=self.refresh)
        except NotFoundError:
            log.debug("ticket %s was not in the search index", ticket_id)

    def _write(self, ticket_id: str, body: dict[str, Any], version: int, *, bootstrap: bool = True) -> None:
        try:
            self.client.index(
                index=self.alias,
                id=ticket_id,
                document=body,
                version=version,
                version_type="external",
                require_alias=True,
                refresh=self.refresh,
            )
        except ConflictError:
            log.debug("search index already holds ticket %s at version %s or later", ticket_id, version)
        except NotFoundError:
            if not bootstrap:
                raise
            self.ensure_index()  # first write on a new cluster: no alias yet
            self._write(ticket_id, body, version, bootstrap=False)

    def bulk_index(self, items: Iterable[tuple[SearchDocument, bool]], *, index_name: str) -> tuple[int, int]:
        """Write ``(document, deleted)`` pairs into ``index_name``; return (written, already newer)."""
        actions = (
            {
                "_op_type": "index",
                "_index": index_name,
                "_id": doc.id,
                "version": doc.version,
                "version_type": "external",
                "_source": _tombstone(doc.id, doc.version) if deleted else source_of(doc),
            }
            for doc, deleted in items
        )
        written = stale = 0
        for ok, _item in helpers.streaming_bulk(
            self.client, actions, chunk_size=500, raise_on_error=True, ignore_status=(409,), max_retries=3
        ):
            if ok:
                written += 1
            else:
                stale += 1
        return written, stale

    # searching ----------------------------------------------------------------------------------------
    def search(
        self,
        query: str | SearchQuery,
        *,
        visibility: Actor,
        filters: Mapping[str, Any],
        page: int,
        limit: int,
        sort: tuple[str, str] | None = None,
        highlight: bool = True,
    ) -> SearchResult:
        """Return a page of matching tickets ``visibility`` may see, with the list's ``filters`` applied."""
        parsed = parse(query)
        if not parsed:
            return SearchResult(ids=[], total=0)
        staff = _sees_internal(visibility)
        try:
            response = self.client.search(
                index=self.alias,
                query=search_query(parsed, visibility=visibility, filters=filters),
                sort=sort_clause(sort),
                from_=(page - 1) * limit,
                size=limit,
                track_total_hits=True,
                source=False,
                highlight=highlight_clause(staff=staff) if highlight else None,
            )
        except NotFoundError as exc:
            raise SearchUnavailable("The search index is not built yet; try again later.") from exc
        except ApiError as exc:
            if exc.meta.status < 500 and exc.meta.status != 429:
                raise  # our request is wrong: a bug, not an outage
            raise SearchUnavailable() from exc
        except TransportError as exc:  # connection refused, timeout, TLS
            raise SearchUnavailable() from exc
        hits = response["hits"]["hits"]
        highlights: dict[str, str] = {}
        if highlight:
            order = ["description", "comments", *(["internal_notes"] if staff else []), "title"]
            for hit in hits:
                marks = hit.get("highlight", {})
                found = best([(marks.get(name) or [None])[0] for name in order])
                if found is not None:
                    highlights[hit["_id"]] = found
        return SearchResult(ids=[hit["_id"] for hit in hits], total=int(response["hits"]["total"]["value"]),
                            highlights=highlights)
