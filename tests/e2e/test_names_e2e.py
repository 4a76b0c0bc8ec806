"""Names unique ignoring case in full Unicode, through the gateway and the real services: a name repeating
another with non-ASCII capitals or full-width letters is a 409 (never a 500), and two concurrent creates of one
name give one 201 and one 409."""

from __future__ import annotations

import threading
import uuid

import pytest

pytestmark = pytest.mark.e2e

COLLECTIONS = ["/api/v1/categories", "/api/v1/departments", "/api/v1/organizations"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_a_name_repeated_in_other_unicode_capitals_is_409_naming_the_field(as_role, collection):
    admin = as_role("admin")
    word = uuid.uuid4().hex[:6]

    created = admin.post(collection, json={"name": f"Électricité {word}"})
    again = [admin.post(collection, json={"name": name})
             for name in (f"ÉLECTRICITÉ {word.upper()}", f"électricité  {word}", f"Électricité {word}")]

    assert created.status_code == 201, created.text
    assert [(r.status_code, r.json()["errors"]) for r in again] == [(409, {"name": ["Already taken."]})] * 3


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_two_concurrent_creates_of_one_name_give_one_201_and_one_409(as_role, collection):
    admins = [as_role("admin"), as_role("admin")]
    word = uuid.uuid4().hex[:6]
    statuses: list[int] = []
    start = threading.Barrier(2, timeout=15)

    def create(api, name):
        start.wait()
        statuses.append(api.post(collection, json={"name": name}).status_code)

    threads = [threading.Thread(target=create, args=(api, name))
               for api, name in zip(admins, [f"Straße {word}", f"STRASSE {word}"], strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(statuses) == [201, 409]
    listed = admins[0].get(collection, params={"limit": 100}).json()["data"]["items"]
    assert len([item for item in listed if word in item["name"].casefold()]) == 1
