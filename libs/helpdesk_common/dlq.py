"""Inspect and replay dead-lettered events.

    python -m helpdesk_common.dlq show QUEUE.dlq [--limit N]   print the waiting messages, leave them
    python -m helpdesk_common.dlq replay QUEUE.dlq [--limit N] send them back to their handler's queue
"""

from __future__ import annotations

import argparse
import json
import sys

from kombu import Connection, Exchange, Queue

from helpdesk_common.config import amqp_uri
from helpdesk_common.nameko_ext import ATTEMPT_HEADER, ERROR_HEADER, ORIGIN_HEADER


def show(queue_name: str, *, uri: str, limit: int) -> list[dict]:
    """Return up to ``limit`` dead-lettered messages without removing them."""
    found = []
    with Connection(uri) as conn:
        channel = conn.channel()
        queue = Queue(queue_name, durable=True, channel=channel)
        fetched = []
        for _ in range(limit):
            message = queue.get(no_ack=False)
            if message is None:
                break
            fetched.append(message)
            found.append(
                {
                    "message_id": message.properties.get("message_id"),
                    "attempts": message.headers.get(ATTEMPT_HEADER),
                    "error": message.headers.get(ERROR_HEADER),
                    "origin": message.headers.get(ORIGIN_HEADER),
                    "body": message.payload,
                }
            )
        for message in fetched:
            message.requeue()
        channel.close()
    return found


def replay(queue_name: str, *, uri: str, limit: int) -> int:
    """Move up to ``limit`` messages back to the queue they failed on, attempts reset; return the count."""
    moved = 0
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        queue = Queue(queue_name, durable=True, channel=channel)
        producer = conn.Producer(channel=conn.channel())
        while moved < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            origin = headers.get(ORIGIN_HEADER) or queue_name.removesuffix(".dlq")
            headers[ATTEMPT_HEADER] = 1
            producer.publish(
                message.body,
                exchange=Exchange(""),
                routing_key=origin,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
                message_id=message.properties.get("message_id"),
            )
            message.ack()
            moved += 1
        channel.close()
    return moved


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="python -m helpdesk_common.dlq", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["show", "replay"])
    parser.add_argument("queue", help="the dead-letter queue, evt-<producer>-<event type>--<service>.<method>.dlq")
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)
    if args.action == "show":
        json.dump(show(args.queue, uri=amqp_uri(), limit=args.limit), sys.stdout, indent=2, default=str)
        print()
    else:
        print(f"replayed {replay(args.queue, uri=amqp_uri(), limit=args.limit)} message(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
