"""schemathesis hooks for ``make fuzz`` (loaded through ``SCHEMATHESIS_HOOKS=fuzz.hooks``).

A valid ``Idempotency-Key`` the fuzzer generates is replaced by a fresh one on every call. Hypothesis
draws the same values again across cases and stateful scenarios, and our API answers a repeated key and
body with the first answer (that is the point of the header): a scenario that deleted what it created
would then be "created" again under the old id, and its next call fairly answer 404. Malformed keys (the
negative cases, which must get a 400) are sent as generated.
"""

from __future__ import annotations

import re
import uuid

import schemathesis

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x20-\x7e]{1,255}$")  # as gateway/idempotency.py accepts


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Give every call that sends a well-formed Idempotency-Key a key of its own."""
    headers = case.headers or {}
    value = headers.get(HEADER)
    if isinstance(value, str) and _VALID.match(value):
        headers[HEADER] = f"fuzz-{uuid.uuid4()}"
        case.headers = headers
