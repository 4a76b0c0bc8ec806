"""What the tests start the tickets service with (read by ``helpdesk_common.testing``'s container fixtures)."""

# the timers that ask the users service (organizations' sharing, departments) are off: most tests start
# this service alone; a test that wants one passes its own value
TEST_CONFIG = {"ORGANIZATION_SYNC_SECONDS": 0, "DEPARTMENT_SYNC_SECONDS": 0}
