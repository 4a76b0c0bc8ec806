"""The blueprint class every resource uses: flask-smorest's, with a stricter body parser."""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from marshmallow import ValidationError
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import UnsupportedMediaType

from gateway.guard import guarded_body
from gateway.schemas.common import ErrorEnvelopeSchema

ONCE = "Give this parameter once."


def repeated_once_only(multidict: Any, multiple: set[str] | frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """The errors of the keys sent more than once that take one value (werkzeug would keep the first)."""
    return {key: [ONCE] for key in multidict.keys() if key not in multiple and len(multidict.getlist(key)) > 1}


class JsonBodyParser(FlaskParser):
    """Read JSON bodies; answer 415 for a body in another format instead of ignoring it.

    The body is the one ``gateway.guard`` parsed and checked before the view: it is not parsed twice.
    A query parameter that takes one value and is sent twice (``?q=a&q=b``) is a 422, not its first value
    (the OpenAPI's `form` style makes a repeated parameter an array, which only the list parameters are).
    """

    def pre_load(self, location_data: Any, *, schema: Any, req: flask.Request, location: str) -> Any:
        if location in ("query", "querystring", "form") and hasattr(location_data, "multiple_keys"):
            errors = repeated_once_only(location_data.data, location_data.multiple_keys)
            if errors:
                raise ValidationError(errors)
        return location_data

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            if req.content_length or req.headers.get("Transfer-Encoding"):
                raise UnsupportedMediaType()
            return core.missing
        body = guarded_body(core.missing)
        if body is core.missing and req.get_data(cache=True):  # a body the guard did not see (no hook)
            return core.parse_json(req.get_data(cache=True))
        return body


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose JSON bodies must be sent as ``application/json``."""

    ARGUMENTS_PARSER = JsonBodyParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any):
        """flask-smorest's ``arguments``, with a schema class made into one instance up front.

        webargs builds a new instance of a schema class on every request (a deep copy of every field);
        marshmallow schemas hold no per-load state, so one instance serves every request.
        """
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def error(self, status: int, description: str):
        """Document an error answer (in the envelope) particular to this operation.

        The statuses every operation of its shape can give (401, 404 on a path id, 422...) are added to the
        document by ``gateway.openapi.document_common_errors``; this is for the others, 409 mostly.
        """
        return self.alt_response(status, schema=ErrorEnvelopeSchema, description=description)
