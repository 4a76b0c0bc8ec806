"""The public contract between services and with integrators: event envelopes and schemas, RPC errors."""
