"""``GET /api/v1/tickets/export``: the caller's tickets as an Excel or CSV attachment."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook

from gateway import exports

EXPORT = "/api/v1/tickets/export"
HEADERS = [
    "Number",
    "Title",
    "Description",
    "Requester",
    "Assignee",
    "Category",
    "Priority",
    "Status",
    "Department",
    "Created",
    "Updated",
    "Closed",
    "Tags",
]


@pytest.fixture
def ticket(tickets_service, accounts):
    """A ticket whose title looks like a formula, with tags."""
    return tickets_service.add_ticket(
        accounts["customer"]["id"],
        title="=HYPERLINK(\"http://evil.example\",\"click\")",
        description="Line one\nline two",
        tags=["vpn", "wifi"],
        created_at="2025-03-01T09:30:00+00:00",
    )


def _sheet(response):
    return load_workbook(io.BytesIO(response.data)).active


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_export_xlsx_has_the_seed_columns_in_a_bold_filled_frozen_filtered_header(client, auth_headers, ticket):
    sheet = _sheet(client.get(f"{EXPORT}?format=xlsx", headers=auth_headers("agent")))

    assert [cell.value for cell in sheet[1]] == HEADERS
    assert all(cell.font.bold for cell in sheet[1])
    assert all(cell.fill.fill_type == "solid" for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M2"


def test_export_xlsx_neutralises_a_formula_looking_cell(client, auth_headers, ticket):
    sheet = _sheet(client.get(f"{EXPORT}?format=xlsx", headers=auth_headers("agent")))

    title = sheet["B2"]
    assert title.value == "'" + ticket["title"]
    assert title.data_type == "s"


def test_export_xlsx_fits_the_column_widths(client, auth_headers, ticket):
    sheet = _sheet(client.get(f"{EXPORT}?format=xlsx", headers=auth_headers("agent")))

    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDM"}
    assert widths["A"] == len("TKT-000001") + 2
    assert widths["B"] == len("'" + ticket["title"]) + 2
    assert widths["C"] == len("Description") + 2  # the longest line, here the header's
    assert widths["D"] == 36 + 2  # a requester id
    assert widths["M"] == len("vpn, wifi") + 2


def test_export_xlsx_caps_the_width_of_long_text(client, auth_headers, tickets_service, accounts):
    tickets_service.add_ticket(accounts["customer"]["id"], description="word " * 100)

    sheet = _sheet(client.get(f"{EXPORT}?format=xlsx", headers=auth_headers("agent")))

    assert sheet.column_dimensions["C"].width == exports.MAX_WIDTH


def test_export_xlsx_writes_times_as_utc_dates(client, auth_headers, ticket):
    sheet = _sheet(client.get(f"{EXPORT}?format=xlsx", headers=auth_headers("agent")))

    assert sheet["J2"].value == datetime(2025, 3, 1, 9, 30)
    assert sheet["J2"].number_format == exports.TIME_FORMAT


def test_export_xlsx_answers_an_excel_attachment(client, auth_headers, ticket):
    response = client.get(f"{EXPORT}?format=xlsx", headers=auth_headers("agent"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == exports.XLSX_MEDIA_TYPE
    assert re.fullmatch(r'attachment; filename="tickets-\d{8}\.xlsx"', response.headers["Content-Disposition"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_export_defaults_to_xlsx(client, auth_headers, ticket):
    response = client.get(EXPORT, headers=auth_headers("agent"))

    assert response.headers["Content-Type"] == exports.XLSX_MEDIA_TYPE


def test_export_csv_is_utf8_with_a_bom(client, auth_headers, tickets_service, accounts):
    tickets_service.add_ticket(accounts["customer"]["id"], title="Impresora sin tóner")

    response = client.get(f"{EXPORT}?format=csv", headers=auth_headers("agent"))

    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="tickets-\d{8}\.csv"', response.headers["Content-Disposition"])
    assert _csv_rows(response)[1][1] == "Impresora sin tóner"


def test_export_csv_has_the_header_and_neutralised_cells(client, auth_headers, ticket):
    rows = _csv_rows(client.get(f"{EXPORT}?format=csv", headers=auth_headers("agent")))

    assert rows[0] == HEADERS
    assert rows[1][1] == "'" + ticket["title"]
    assert rows[1][2] == "Line one\nline two"
    assert rows[1][12] == "vpn, wifi"


def test_export_with_an_unknown_format_is_422(client, auth_headers, fake_rpc):
    response = client.get(f"{EXPORT}?format=pdf", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "format" in response.get_json()["errors"]
    assert fake_rpc.calls_to("tickets", "list") == []


def test_export_passes_the_list_filters_and_sorting(client, auth_headers, fake_rpc):
    client.get(f"{EXPORT}?format=csv&status=open,new&tag=vpn&sort_by=number&sort_order=asc", headers=auth_headers("agent"))

    call = fake_rpc.calls_to("tickets", "list")[-1]
    assert call.kwargs["filters"] == {"status": ["open", "new"], "tag": "vpn"}
    assert (call.kwargs["sort_by"], call.kwargs["sort_order"]) == ("number", "asc")


def test_export_with_a_malformed_date_is_422(client, auth_headers):
    assert client.get(f"{EXPORT}?created_to=tomorrow", headers=auth_headers("agent")).status_code == 422


def test_export_as_customer_passes_the_customer_as_actor(client, auth_headers, tickets_service, accounts, fake_rpc):
    mine = tickets_service.add_ticket(accounts["customer"]["id"])
    tickets_service.add_ticket(accounts["admin"]["id"])

    rows = _csv_rows(client.get(f"{EXPORT}?format=csv", headers=auth_headers("customer")))

    actor = fake_rpc.calls_to("tickets", "list")[-1].kwargs["actor"]
    assert (actor["id"], actor["role"]) == (accounts["customer"]["id"], "customer")
    assert [row[0] for row in rows[1:]] == [mine["number"]]


def test_export_reads_the_list_100_tickets_at_a_time(client, auth_headers, tickets_service, accounts, fake_rpc):
    for _ in range(250):
        tickets_service.add_ticket(accounts["customer"]["id"])

    rows = _csv_rows(client.get(f"{EXPORT}?format=csv", headers=auth_headers("agent")))

    calls = fake_rpc.calls_to("tickets", "list")
    assert [(c.kwargs["page"], c.kwargs["limit"]) for c in calls] == [(1, 100), (2, 100), (3, 100)]
    assert len(rows) == 251
    assert len({row[0] for row in rows[1:]}) == 250


def test_export_stops_at_the_row_cap_and_says_so(make_app, auth_headers, tickets_service, accounts):
    client = make_app(EXPORT_MAX_ROWS=150).test_client()
    for _ in range(220):
        tickets_service.add_ticket(accounts["customer"]["id"])

    response = client.get(f"{EXPORT}?format=csv", headers=auth_headers("agent"))

    assert len(_csv_rows(response)) == 151
    assert response.headers["X-Export-Truncated"] == "true"


def test_export_never_reads_past_the_row_cap_even_when_pages_overlap(
    make_app, auth_headers, tickets_service, accounts, fake_rpc, monkeypatch
):
    client = make_app(EXPORT_MAX_ROWS=200).test_client()
    for _ in range(100):
        tickets_service.add_ticket(accounts["customer"]["id"])
    first_page = tickets_service.list

    def shifting(actor, filters=None, page=1, limit=20, **sorting):  # new tickets keep pushing the same ones down
        return {**first_page(actor, filters, 1, limit, **sorting), "total": 320}

    monkeypatch.setattr(tickets_service, "list", shifting)

    response = client.get(f"{EXPORT}?format=csv&q=printer", headers=auth_headers("agent"))

    # with q the service refuses pages past its search window: page × limit must stay within the cap
    assert max(c.kwargs["page"] * c.kwargs["limit"] for c in fake_rpc.calls_to("tickets", "list")) == 200
    assert len(_csv_rows(response)) == 101  # each ticket once


def test_export_under_the_cap_is_not_marked_truncated(client, auth_headers, ticket):
    assert "X-Export-Truncated" not in client.get(EXPORT, headers=auth_headers("agent")).headers


def test_export_without_a_token_is_401(client):
    assert client.get(EXPORT).status_code == 401


def test_export_drops_characters_xml_cannot_hold(client, auth_headers, tickets_service, accounts):
    tickets_service.add_ticket(accounts["customer"]["id"], description="bell\x07 and null\x00 bytes")

    response = client.get(f"{EXPORT}?format=xlsx", headers=auth_headers("agent"))

    assert response.status_code == 200
    assert _sheet(response)["C2"].value == "bell and null bytes"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_formula_triggers(text):
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["TKT-000001", "a=b", "", " =1"])
def test_neutralise_leaves_other_text_alone(text):
    assert exports.neutralise(text) == text


def test_export_is_rate_limited(make_app, auth_headers):
    client = make_app(EXPORT_RATE_LIMIT="1/minute").test_client()

    first = client.get(EXPORT, headers=auth_headers("agent"))
    second = client.get(EXPORT, headers=auth_headers("agent"))

    assert (first.status_code, second.status_code) == (200, 429)
