"""Root fixtures. Eventlet is patched first: Nameko containers run inside the test process."""

import eventlet

eventlet.monkey_patch()

pytest_plugins = ["helpdesk_common.testing"]
