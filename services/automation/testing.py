"""What the tests start the automation service with (read by ``helpdesk_common.testing``'s container fixtures)."""

# the timers that ask the users and tickets services are off: most tests start this service alone; a
# test that wants one passes its own value
TEST_CONFIG = {"AUTOMATION_SYNC_SECONDS": 0, "BACKLOG_SWEEP_SECONDS": 0, "TIME_RULES_SECONDS": 0}

# in the end-to-end stack (every service runs): time rules are checked every second, so their test waits
# seconds rather than the production 30
STACK_TEST_ENV = {"TIME_RULES_SECONDS": 1}
