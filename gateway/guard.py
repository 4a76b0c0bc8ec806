"""The input guard: every request is checked against ``helpdesk_contracts.limits`` before any view runs.

One ``before_request`` hook, registered before authentication can run (``require_auth`` wraps the
views, which run after every hook): a JSON body is parsed once here, with its nesting bounded, and
checked with the query string for NUL, lone surrogates, integers outside signed 64 bits and
non-finite numbers; the request class checks form fields and upload file names the same way as they
are parsed. A malformed body (not JSON, nested too deep) answers 400; a refused value answers 422
naming its field; nothing reaches a service. The views' argument parser
(``gateway.api.blueprint.JsonBodyParser``) takes the body parsed here instead of parsing it again.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, request
from werkzeug.datastructures import MultiDict

from gateway.errors import MalformedRequest
from helpdesk_contracts import limits
from helpdesk_contracts.errors import ValidationFailed

_BODY = "helpdesk.guarded_json_body"  # in the WSGI environ: one request's, whatever app context is pushed
_MESSAGES = {
    limits.TOO_DEEP: f"The request body is nested too deeply (at most {limits.MAX_DEPTH} levels).",
    limits.NOT_JSON: "The request body is not valid JSON.",
}


class GuardedRequest(Request):
    """Flask's request, whose form fields and upload file names are checked as soon as they are parsed.

    Parsed when a view first reads them, not in the hook: an upload's view raises the body limit first
    (``gateway.api.attachments``), and the form is parsed once either way.
    """

    def _load_form_data(self) -> None:
        super()._load_form_data()
        _check_fields(self.form, "form")
        for name, upload in self.files.items(multi=True):
            if upload.filename and (message := limits.text_problem(upload.filename)):
                _refuse(limits.Problem(name, f"The file name: {message[0].lower()}{message[1:]}"))


def init_guard(app: Flask) -> None:
    """Check every request's input before its view (and its authentication) runs."""
    app.request_class = GuardedRequest
    app.before_request(guard_request)


def guard_request() -> None:
    """Refuse the request (400/422 in the envelope) if its query string or JSON body breaks a limit."""
    if request.args:
        _check_fields(request.args, "query")
    if request.is_json:
        raw = request.get_data(cache=True)  # werkzeug refuses a body past MAX_CONTENT_LENGTH with 413
        if raw:
            body, problem = limits.parse_json(raw)
            if problem is not None:
                _refuse(problem)
            request.environ[_BODY] = body


def guarded_body(default: Any = None) -> Any:
    """Return the JSON body the guard parsed and checked for this request (``default`` if it had none)."""
    return request.environ.get(_BODY, default)


def _check_fields(values: MultiDict, where: str) -> None:
    for name, value in values.items(multi=True):
        message = limits.text_problem(name)
        if message is not None:
            _refuse(limits.Problem(limits.WHOLE_BODY, f"A {where} parameter's name: {message}"))
        message = limits.text_problem(value)
        if message is not None:
            _refuse(limits.Problem(name, message))


def _refuse(problem: limits.Problem) -> None:
    if problem.malformed:
        message = _MESSAGES.get(problem.message, problem.message)
        raise MalformedRequest(message, {} if problem.message == limits.NOT_JSON else problem.as_errors())
    raise ValidationFailed(f"Validation failed: {problem.field}: {problem.message}", problem.as_errors())
