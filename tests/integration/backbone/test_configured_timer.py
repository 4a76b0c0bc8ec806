"""``configured_timer``: the interval comes from the config, and a round that could not be done (it raised,
or returned ``RETRY_SOON``: the service it asks was not up yet) is tried again after seconds, doubling,
not a whole interval later; a round that succeeded waits the interval again."""

import eventlet
import pytest
from eventlet.event import Event

from helpdesk_common.nameko_ext import RETRY_SOON, configured_timer

pytestmark = pytest.mark.integration

ROUNDS: list[str] = []
DONE = {"event": Event()}
PLAN: list[str] = []  # what each round does: "retry", "raise" or "ok"


class Reconciler:
    name = "reconciler"

    @configured_timer("TEST_SYNC_SECONDS", default=600, eager=True, retry_seconds=0.05)
    def reconcile(self):
        step = PLAN[len(ROUNDS)] if len(ROUNDS) < len(PLAN) else "ok"
        ROUNDS.append(step)
        if len(ROUNDS) == len(PLAN):
            DONE["event"].send(True)
        if step == "raise":
            raise RuntimeError("the users service is not up yet")
        return RETRY_SOON if step == "retry" else None


@pytest.fixture
def start(container_factory):
    def run(plan, config=None):
        ROUNDS.clear()
        PLAN[:] = plan
        DONE["event"] = Event()
        return container_factory(Reconciler, config)

    return run


def test_a_failed_round_is_tried_again_after_seconds_until_one_succeeds(start):
    start(["retry", "raise", "retry", "ok"])  # retries after 0.05, 0.1, 0.2 s; the interval is 600 s

    with eventlet.Timeout(10):
        DONE["event"].wait()

    assert ROUNDS == ["retry", "raise", "retry", "ok"]


def test_a_round_that_succeeded_waits_the_whole_interval(start):
    start(["ok"], {"TEST_SYNC_SECONDS": "600"})
    with eventlet.Timeout(10):
        DONE["event"].wait()

    eventlet.sleep(0.5)  # ten retry delays: a retry would have come
    assert ROUNDS == ["ok"]


def test_the_interval_is_read_from_the_config(start):
    start(["ok", "ok", "ok"], {"TEST_SYNC_SECONDS": "0.05"})

    with eventlet.Timeout(10):
        DONE["event"].wait()

    assert ROUNDS[:3] == ["ok", "ok", "ok"]  # every 0.05 s, not every 600
