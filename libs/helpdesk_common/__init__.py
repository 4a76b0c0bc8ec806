"""Infrastructure shared by the services: database, outbox and relay, inbox, reliable event handling,
correlation context, logging, metrics and clocks. No domain word lives here."""
