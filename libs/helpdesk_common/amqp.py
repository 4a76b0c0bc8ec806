"""The AMQP client pieces shared by services and the gateway: broker errors, one kept channel."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import amqp.exceptions
import kombu.exceptions
from kombu import Connection

log = logging.getLogger(__name__)

# What a lost or refused broker connection surfaces as, from kombu, py-amqp or the socket layer.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    kombu.exceptions.OperationalError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.ChannelError,
)


def skip_librabbitmq_probe() -> None:
    """Stop kombu from trying ``import librabbitmq`` on every new connection object.

    Nameko builds a kombu ``Connection`` per publish, and kombu probes for the optional C client each
    time; a failed import is not cached, so every RPC paid a file-system search (about 0.5 ms). We never
    use librabbitmq: mark it absent once.
    """
    sys.modules.setdefault("librabbitmq", None)


class BrokerChannel:
    """One kept broker connection and its py-amqp channel, for code that publishes on a hot path.

    Opened on first use (``open``): connected with one attempt (a broker that is away raises kombu's
    ``OperationalError`` at once), the channel put in confirm mode when ``confirms`` is set, then handed
    to ``on_open`` (declarations, consumers, ``basic_return``/``basic_ack`` handlers). Callers publish
    straight on the py-amqp channel it returns: kombu's ``Producer.publish`` costs more than the write.
    After a broker error the owner calls ``close`` (quiet: the connection may be dead already) and the
    next ``open`` connects again; ``publish`` does that once by itself.
    """

    def __init__(self, amqp_uri: str, *, confirms: bool = False, connect_timeout: float = 5.0,
                 heartbeat: float | None = None, ssl=None, login_method=None,
                 on_open: Callable[[Any], None] | None = None, name: str = "broker"):
        options: dict[str, Any] = {"connect_timeout": connect_timeout, "ssl": ssl, "login_method": login_method}
        if heartbeat is not None:
            options["heartbeat"] = heartbeat
        self.amqp_uri = amqp_uri
        self._options = options
        self.confirms = confirms
        self.on_open = on_open
        self.name = name
        self.connection: Connection | None = None  # kombu's, for ``drain_events`` and ``connected``
        self.channel = None  # py-amqp's channel of ``connection``

    def open(self):
        """Return the channel, connecting first if there is none."""
        if self.channel is None:
            connection = Connection(self.amqp_uri, **self._options)
            try:
                connection.ensure_connection(max_retries=1)
                channel = connection.channel()
                if self.confirms:
                    channel.confirm_select()
                if self.on_open is not None:
                    self.on_open(channel)
            except BaseException:
                _release(connection, self.name)
                raise
            self.connection, self.channel = connection, channel
        return self.channel

    @property
    def connected(self) -> bool:
        """Tell whether the connection is open, as far as it knows without reading its socket."""
        return self.connection is not None and self.connection.connected

    def publish(self, message, *, exchange: str, routing_key: str, **options) -> None:
        """Publish ``message`` (a py-amqp ``Message``), reconnecting once if the connection was lost."""
        for attempt in (1, 2):
            try:
                self.open().basic_publish(message, exchange=exchange, routing_key=routing_key, **options)
                return
            except BROKER_ERRORS as exc:
                self.close()
                if attempt == 2:
                    raise
                log.info("reopening the %s connection: %r", self.name, exc)

    def close(self) -> None:
        """Drop the connection quietly (it may be dead already); the next ``open`` connects again."""
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None:
            _release(connection, self.name)


def _release(connection: Connection, name: str) -> None:
    try:
        connection.release()
    except Exception as exc:  # closing a dead connection: nothing left to do
        log.debug("closing the %s connection: %r", name, exc)
