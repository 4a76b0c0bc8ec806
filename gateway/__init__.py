"""The HTTP gateway: JSON over HTTP in front of the nameko services, which it reaches over RPC.

``gateway.app.create_app()`` builds the Flask application; see ``gateway/README.md``.
"""
