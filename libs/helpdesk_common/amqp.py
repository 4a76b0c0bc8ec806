"""Small AMQP client tweaks shared by services and the gateway."""

from __future__ import annotations

import sys

import amqp.exceptions
import kombu.exceptions

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
