"""schemathesis hooks for ``make fuzz`` (loaded through ``SCHEMATHESIS_HOOKS=fuzz.hooks``).

In the stateful phase, a valid ``Idempotency-Key`` the fuzzer generates is replaced by a fresh one on every
call. Hypothesis draws the same values again across cases and stateful scenarios, and our API answers a
repeated key and body with the first answer (that is the point of the header): a scenario that deleted what it created
would then be "created" again under the old id, and its next call fairly answer 404. Malformed keys (the
negative cases, which must get a 400) are sent as generated, and so is every case of the other phases: a
coverage case that leaves a header out must reach the API as generated (changing its headers makes
schemathesis re-check the case and send the configured Authorization after all).
"""

from __future__ import annotations

import re
import uuid

import schemathesis

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x20-\x7e]{1,255}$")  # as gateway/idempotency.py accepts


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Give every stateful call that sends a well-formed Idempotency-Key a key of its own."""
    meta = getattr(case, "_meta", None)  # schemathesis keeps the phase there (no public accessor in 4.32)
    if meta is None or meta.phase.name != "stateful" or not case.headers:
        return
    value = case.headers.get(HEADER)
    if isinstance(value, str) and _VALID.match(value):
        case.headers[HEADER] = f"fuzz-{uuid.uuid4()}"
