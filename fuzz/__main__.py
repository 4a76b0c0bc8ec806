"""Run schemathesis against a throwaway stack, once per demo role (``make fuzz``; a test, not a figure).

The stack runs as the end-to-end tests start it: the Procfile's processes on SQLite under a temporary
directory, migrated and seeded with the demo data (``HELPDESK_DEMO=1``), in a RabbitMQ virtual host of its
own. Then ``st run`` goes over ``/api/v1/openapi.json`` signed in as a customer, an agent and the admin in
turn — examples, coverage, fuzzing and stateful phases, with the settings of ``schemathesis.toml`` —
and the run fails on any 5xx, undocumented status, response-schema violation, or a request the document
allows but the gateway refuses (or the other way round). Exit status: 0 when every role's run passed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from helpdesk_common.stack import REPO_ROOT, SERVICES, launch, migrate_and_seed
from helpdesk_common.testing import private_vhost

DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/helpdesk_test"
# In this order: the admin's run may deactivate, demote or edit any user it finds (the stateful phase follows
# the lists' ids), so it goes last, when the others have signed in and finished.
ROLES = {
    "customer": ("ana@example.com", "ana123"),
    "agent": ("carlos@example.com", "carlos123"),
    "admin": ("admin@example.com", "admin123"),
}
# the fuzzer signs in, registers and asks for resets thousands of times from one address
UNLIMITED = {f"GATEWAY_{name}_RATE_LIMIT": "1000000/minute" for name in (
    "LOGIN", "LOGIN_ACCOUNT", "LOGIN_ADDRESS", "REGISTER", "PASSWORD_RESET", "EXPORT")}


def sign_in(base_url: str, email: str, password: str) -> str:
    """Return an access token for a demo login."""
    response = requests.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["data"]["access_token"]


def run_schemathesis(base_url: str, role: str, token: str, *, report_dir: Path, extra: list[str]) -> int:
    """Run ``st run`` as one role; return its exit status."""
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
        "run", f"{base_url}/api/v1/openapi.json",
        "--report", "junit", "--report-dir", str(report_dir / role),
    ]
    env = {**os.environ, "FUZZ_TOKEN": token}
    print(f"== schemathesis as {role}", flush=True)
    return subprocess.run([*command, *extra], cwd=REPO_ROOT, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--roles", default=",".join(ROLES), help="comma list of roles to fuzz as (default: all)")
    parser.add_argument("--max-examples", type=int, help="cases per operation and phase (default: schemathesis.toml)")
    parser.add_argument("--seed", type=int, help="schemathesis seed, to replay a run")
    parser.add_argument("--report-dir", default="var/fuzz", help="JUnit reports, one folder per role")
    parser.add_argument("--keep", action="store_true", help="leave the stack's directory (logs, databases) behind")
    args, extra = parser.parse_known_args(argv)
    if args.max_examples:
        extra += ["--max-examples", str(args.max_examples)]
    if args.seed is not None:
        extra += ["--seed", str(args.seed)]
    roles = [role for role in ROLES if role in {name.strip() for name in args.roles.split(",")}]
    unknown = {name.strip() for name in args.roles.split(",") if name.strip()} - set(ROLES)
    if unknown:
        parser.error(f"unknown roles: {', '.join(sorted(unknown))}")

    began = time.monotonic()
    var_dir = Path(tempfile.mkdtemp(prefix="helpdesk-fuzz-"))
    report_dir = (REPO_ROOT / args.report_dir).resolve()
    failed: list[str] = []
    with private_vhost(os.environ.get("HELPDESK_TEST_AMQP_URI", DEFAULT_AMQP)) as amqp_uri:
        urls = {service: f"sqlite:///{var_dir / f'{service}.db'}" for service in SERVICES}
        for service in SERVICES:
            migrate_and_seed(service, urls[service])
        stack = launch(var_dir=var_dir, amqp_uri=amqp_uri, database_urls=urls, extra_env=UNLIMITED)
        try:
            for role in roles:
                try:
                    token = sign_in(stack.base_url, *ROLES[role])
                except requests.RequestException as error:
                    print(f"== cannot sign in as {role}: {error}", flush=True)
                    failed.append(role)
                    continue
                if run_schemathesis(stack.base_url, role, token, report_dir=report_dir, extra=extra) != 0:
                    failed.append(role)
        finally:
            stack.stop_all()
    if failed:
        print(f"== failed as {', '.join(failed)}: reports in {report_dir}, the stack's logs in {var_dir}")
    print(f"== {time.monotonic() - began:.0f} s; roles:")
    print(f"fuzz: {len(roles) - len(failed)} passed, {len(failed)} failed")  # the closing line CI reads
    if not failed and not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
