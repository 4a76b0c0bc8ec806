"""Run a nameko service as ``nameko run`` does, minus eventlet's deprecation banner (the Procfile's command).

``python -m helpdesk_common.run --config services/<service>/config.yml services.<service>.service``

eventlet prints its banner with ``warnings.warn`` when it is first imported, which ``nameko run`` does
before any code of ours runs. ``PYTHONWARNINGS=ignore::DeprecationWarning`` cannot stop it: its category,
``eventlet.EventletDeprecationWarning``, derives from ``Warning`` itself, and naming that class in
``PYTHONWARNINGS`` or ``python -W`` would import eventlet (and print the banner) while the option is read.
So the filter is installed here, by message, before nameko's CLI is imported.
"""

from __future__ import annotations

import sys
import warnings

EVENTLET_BANNER = r"\s*Eventlet is deprecated"  # the message starts with a newline


def quiet_eventlet_banner() -> None:
    """Ignore eventlet's import-time deprecation banner in this process (and in processes forked from it)."""
    warnings.filterwarnings("ignore", message=EVENTLET_BANNER)


def main(argv: list[str] | None = None) -> int | None:
    """Run ``nameko run`` with ``argv`` (default: this process's arguments) and no eventlet banner."""
    quiet_eventlet_banner()
    from nameko.cli.main import main as nameko_main

    sys.argv = ["nameko", "run", *(sys.argv[1:] if argv is None else argv)]
    return nameko_main()


if __name__ == "__main__":
    sys.exit(main())
