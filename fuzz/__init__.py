"""``make fuzz``: schemathesis against a throwaway stack, once per role (``python -m fuzz --help``)."""
