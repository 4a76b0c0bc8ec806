"""Root fixtures. Eventlet is patched first: Nameko containers run inside the test process."""

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")  # before anything imports psycopg

import eventlet  # noqa: E402

eventlet.monkey_patch()

pytest_plugins = ["helpdesk_common.testing"]
