"""The Elasticsearch adapter against an in-memory stand-in for the server (the real client runs on top of
it): layout, external versions, tombstones, the requests a search sends, and outages mapped to 503."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import BadRequestError
from elasticsearch import ConnectionError as ElasticsearchConnectionError

from services.tickets.adapters.search.elastic import (
    ElasticsearchTicketSearchIndex,
    list_filters,
    sort_clause,
    visibility_filter,
)
from services.tickets.domain.errors import SearchUnavailable
from services.tickets.domain.search.highlight import END, START
from services.tickets.domain.search.port import SearchDocument
from tests.unit.search.conftest import admin, agent, customer, new_id

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def doc(version=1, **fields):
    base = {"id": "t-1", "number": "TKT-000001", "title": "Cámara rota", "description": "No enciende.",
            "status": "new", "priority": "medium", "requester_id": "r-1", "created_at": NOW,
            "updated_at": NOW + timedelta(minutes=version), "version": version}
    return SearchDocument(**{**base, **fields})


@pytest.fixture
def index(fake_es):
    return ElasticsearchTicketSearchIndex(fake_es.client(), alias="tickets")


def last_search(fake_es):
    return next(r for r in reversed(fake_es.requests) if r.path.endswith("/_search")).body


# layout ----------------------------------------------------------------------------------------------------

def test_first_write_installs_the_template_and_an_index_behind_the_alias(index, fake_es):
    index.index(doc())

    template = fake_es.templates["tickets"]
    assert template["index_patterns"] == ["tickets-v*"]
    assert set(template["template"]["settings"]["analysis"]["analyzer"]) == {"folded", "spanish_folded", "english_folded"}
    assert template["template"]["mappings"]["properties"]["internal_notes"]["fields"].keys() == {"es", "en"}
    assert fake_es.alias_targets("tickets") == ["tickets-v1"]
    assert fake_es.indices["tickets-v1"]["templated"] == ["tickets"]
    assert fake_es.doc("tickets", "t-1")[0] == 1


def test_ensure_index_is_idempotent(index, fake_es):
    assert index.ensure_index() == "tickets-v1"
    assert index.ensure_index() == "tickets-v1"
    assert list(fake_es.indices) == ["tickets-v1"]


def test_swap_alias_moves_it_in_one_call_and_keeps_the_old_index(index, fake_es):
    index.ensure_index()
    new = index.create_index()

    previous = index.swap_alias(new)

    assert (new, previous) == ("tickets-v2", ["tickets-v1"])
    assert fake_es.alias_targets("tickets") == ["tickets-v2"]
    assert "tickets-v1" in fake_es.indices
    swaps = [r.body["actions"] for r in fake_es.requests if r.path == "/_aliases"]
    assert swaps == [[{"remove": {"index": "tickets-v1", "alias": "tickets"}},
                      {"add": {"index": "tickets-v2", "alias": "tickets", "is_write_index": True}}]]


def test_bulk_index_loads_without_refresh_until_finished(index, fake_es):
    new = index.create_index()
    assert fake_es.indices[new]["settings"]["refresh_interval"] == "-1"

    written, stale = index.bulk_index([(doc(2), False), (doc(1, id="t-2"), True)], index_name=new)
    index.finish_bulk(new)

    assert (written, stale) == (2, 0)
    assert fake_es.indices[new]["docs"]["t-2"] == (1, {"id": "t-2", "version": 1, "deleted": True})
    assert fake_es.indices[new]["settings"]["refresh_interval"] is None


def test_bulk_index_counts_older_versions_as_stale_not_errors(index, fake_es):
    new = index.create_index()
    index.bulk_index([(doc(3), False)], index_name=new)

    assert index.bulk_index([(doc(2), False)], index_name=new) == (0, 1)
    assert fake_es.indices[new]["docs"]["t-1"][0] == 3


# versions ---------------------------------------------------------------------------------------------------

def test_writes_use_external_versions_through_the_alias_only(index, fake_es):
    index.index(doc(4))

    writes = [r for r in fake_es.requests if "/_doc/" in r.path]
    assert {r.path for r in writes} == {"/tickets/_doc/t-1"}
    assert all(r.params["version_type"] == "external" and r.params["require_alias"] == "true" for r in writes)
    assert writes[-1].params["version"] == "4"


def test_an_older_version_arriving_late_is_ignored(index, fake_es):
    index.index(doc(3, title="Nuevo"))

    index.index(doc(2, title="Viejo"))  # 409 from the server: done, not an error
    index.index(doc(3, title="Repetido"))  # the same version again: also done

    assert fake_es.doc("tickets", "t-1")[1]["title"] == "Nuevo"


def test_a_deleted_ticket_is_a_tombstone_no_late_event_revives(index, fake_es):
    index.index(doc(2))

    index.delete("t-1", version=3)
    index.index(doc(2))

    assert fake_es.doc("tickets", "t-1") == (3, {"id": "t-1", "version": 3, "deleted": True})


def test_delete_without_a_version_removes_the_document_and_tolerates_its_absence(index, fake_es):
    index.index(doc())

    index.delete("t-1")
    index.delete("t-1")

    assert fake_es.doc("tickets", "t-1") is None


def test_a_write_while_elasticsearch_is_down_raises_so_the_event_is_retried(index, fake_es):
    fake_es.down = True

    with pytest.raises(ElasticsearchConnectionError):
        index.index(doc())


# searching --------------------------------------------------------------------------------------------------

def test_customer_search_never_looks_at_internal_notes(index, fake_es):
    index.ensure_index()

    index.search('nota "wi fi"* config*', visibility=customer(), filters={}, page=1, limit=10)
    as_customer = json.dumps(last_search(fake_es))
    index.search("nota", visibility=agent(), filters={}, page=1, limit=10)
    as_agent = json.dumps(last_search(fake_es))

    assert "internal_notes" not in as_customer
    assert "internal_notes" in as_agent


def test_search_sends_visibility_filters_paging_and_relevance_order(index, fake_es):
    index.ensure_index()
    me = customer()

    index.search("vpn", visibility=me, filters={"status": ["open"], "q": "vpn"}, page=3, limit=10)

    body = last_search(fake_es)
    assert (body["from"], body["size"], body["track_total_hits"], body["_source"]) == (20, 10, True, False)
    assert body["query"]["bool"]["filter"] == [
        {"term": {"deleted": False}}, {"term": {"requester_id": me.id}}, {"terms": {"status": ["open"]}},
    ]
    assert body["sort"][0] == {"_score": {"order": "desc"}}
    assert body["sort"][1] == {"updated_at": {"order": "desc"}}


def test_search_reads_ids_total_and_the_best_highlight(index, fake_es):
    index.ensure_index()
    fake_es.search_response = {"hits": {"total": {"value": 7, "relation": "eq"}, "hits": [
        {"_id": "a", "highlight": {"description": ["plain start"], "comments": [f"la {START}cámara{END} <b>"]}},
        {"_id": "b", "highlight": {"description": ["just the start"]}},
        {"_id": "c"},
    ]}}

    result = index.search("camara", visibility=admin(), filters={}, page=1, limit=3)

    assert (result.ids, result.total) == (["a", "b", "c"], 7)
    assert result.highlights == {"a": "la <mark>cámara</mark> &lt;b&gt;", "b": "just the start"}


@pytest.mark.parametrize("status", [500, 503, 429])
def test_search_answers_unavailable_when_the_cluster_fails(index, fake_es, status):
    index.ensure_index()
    fake_es.fail_status = status

    with pytest.raises(SearchUnavailable):
        index.search("vpn", visibility=admin(), filters={}, page=1, limit=10)


def test_search_answers_unavailable_when_elasticsearch_is_unreachable(index, fake_es):
    fake_es.down = True

    with pytest.raises(SearchUnavailable):
        index.search("vpn", visibility=admin(), filters={}, page=1, limit=10)


def test_search_answers_unavailable_before_the_index_exists(index):
    with pytest.raises(SearchUnavailable):
        index.search("vpn", visibility=admin(), filters={}, page=1, limit=10)


def test_a_rejected_search_request_is_a_bug_not_an_outage(index, fake_es):
    index.ensure_index()
    fake_es.fail_status = 400

    with pytest.raises(BadRequestError):
        index.search("vpn", visibility=admin(), filters={}, page=1, limit=10)


def test_an_empty_query_asks_nothing(index, fake_es):
    result = index.search("  ", visibility=admin(), filters={}, page=1, limit=10)

    assert (result.ids, result.total, fake_es.requests) == ([], 0, [])


# the query's pure parts -------------------------------------------------------------------------------------

def test_visibility_filter_mirrors_the_sql_clause():
    department = new_id()
    me = agent(department)

    assert visibility_filter(admin()) is None
    assert visibility_filter(me) == {"bool": {"minimum_should_match": 1, "should": [
        {"bool": {"must_not": {"exists": {"field": "department_id"}}}},
        {"term": {"department_id": department}},
        {"term": {"assignee_id": me.id}},
    ]}}
    assert visibility_filter(customer(id=None)) == {"match_none": {}}


def test_list_filters_mirror_the_ticket_list():
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert list_filters({"priority": ["high"], "category": "net", "assignee_id": "none", "tag": "vpn",
                         "created_from": since}) == [
        {"terms": {"priority": ["high"]}},
        {"term": {"category": "net"}},
        {"bool": {"must_not": {"exists": {"field": "assignee_id"}}}},
        {"term": {"tags": "vpn"}},
        {"range": {"created_at": {"gte": since.isoformat()}}},
    ]


def test_list_sort_uses_keyword_fields_and_the_id_as_tie_breaker():
    assert sort_clause(("title", "asc")) == [{"title.raw": {"order": "asc"}}, {"id": {"order": "asc"}}]


def test_visibility_filter_lets_a_customer_of_a_sharing_organization_see_its_tickets():
    org = new_id()
    colleague = dataclasses.replace(customer(), organization_id=org)

    assert visibility_filter(colleague) == {"term": {"requester_id": colleague.id}}
    assert visibility_filter(dataclasses.replace(colleague, organization_shared=True)) == {"bool": {
        "should": [{"term": {"requester_id": colleague.id}}, {"term": {"organization_id": org}}],
        "minimum_should_match": 1,
    }}
