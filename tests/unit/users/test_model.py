"""Entities of the users domain, without a database: construction, change sets and state rules."""

from datetime import timedelta

import pytest

from services.users.domain.errors import InvalidRefreshToken, RefreshTokenReused, ValidationFailed
from services.users.domain.model import RefreshToken

# User: construction


def test_user_normalises_email_name_and_skills_when_created(user_factory):
    user = user_factory(email="  Ana@Example.COM ", name="  Ana  ", skills=["vpn", "billing", "vpn"])
    assert (user.email, user.name, user.skills) == ("ana@example.com", "Ana", ["billing", "vpn"])


def test_user_starts_active_offline_at_version_one_when_created(user_factory, clock):
    user = user_factory()
    assert (user.status, user.availability, user.version) == ("active", "offline", 1)
    assert user.created_at == user.updated_at == clock.now()
    assert user.last_login_at is None


def test_user_rejects_unknown_role_when_created(user_factory):
    with pytest.raises(ValidationFailed) as exc:
        user_factory(role="root")
    assert "role" in exc.value.errors


def test_user_rejects_unknown_status_when_created(user_factory):
    with pytest.raises(ValidationFailed) as exc:
        user_factory(status="sleeping")
    assert "status" in exc.value.errors


@pytest.mark.parametrize(("status", "active"), [("active", True), ("on_leave", True), ("inactive", False)])
def test_user_is_active_unless_inactive(user_factory, status, active):
    assert user_factory(status=status).is_active is active


# User.update


def test_update_returns_only_fields_that_changed(user_factory, clock):
    user = user_factory(name="Ana", phone="123")
    changes = user.update({"name": "Ana Lee", "phone": "123"}, now=clock.now())
    assert changes == {"name": {"before": "Ana", "after": "Ana Lee"}}


def test_update_bumps_version_and_updated_at_once_for_several_fields(user_factory, clock):
    user = user_factory()
    clock.advance(minutes=5)
    user.update({"name": "New", "phone": "555", "max_concurrent_tickets": 4}, now=clock.now())
    assert user.version == 2
    assert user.updated_at == clock.now()


def test_update_changes_nothing_when_values_are_equal(user_factory, clock):
    user = user_factory(name="Ana", skills=["a", "b"])
    before = user.updated_at
    clock.advance(minutes=5)
    assert user.update({"name": " Ana ", "skills": ["b", "a", "a"]}, now=clock.now()) == {}
    assert (user.version, user.updated_at) == (1, before)


def test_update_normalises_email_before_comparing(user_factory, clock):
    user = user_factory(email="ana@example.com")
    assert user.update({"email": " ANA@example.com"}, now=clock.now()) == {}
    changes = user.update({"email": "Ana.Lee@Example.com"}, now=clock.now())
    assert changes == {"email": {"before": "ana@example.com", "after": "ana.lee@example.com"}}
    assert user.email == "ana.lee@example.com"


def test_update_sorts_and_dedupes_skills(user_factory, clock):
    user = user_factory(skills=["vpn"])
    changes = user.update({"skills": ["vpn", "billing", "billing"]}, now=clock.now())
    assert changes == {"skills": {"before": ["vpn"], "after": ["billing", "vpn"]}}


@pytest.mark.parametrize("field", ["role", "password_hash", "availability", "version", "id", "created_at"])
def test_update_rejects_read_only_fields(user_factory, clock, field):
    user = user_factory()
    with pytest.raises(ValidationFailed) as exc:
        user.update({field: "x"}, now=clock.now())
    assert field in exc.value.errors


def test_update_rejects_unknown_status(user_factory, clock):
    user = user_factory()
    with pytest.raises(ValidationFailed) as exc:
        user.update({"status": "retired"}, now=clock.now())
    assert "status" in exc.value.errors
    assert user.status == "active"


def test_update_takes_user_offline_when_status_becomes_inactive(user_factory, clock):
    user = user_factory(role="agent")
    user.set_availability("online", now=clock.now())
    changes = user.update({"status": "inactive"}, now=clock.now())
    assert user.availability == "offline"
    assert changes["availability"] == {"before": "online", "after": "offline"}


# User.change_role


def test_change_role_returns_the_change_and_bumps_version(user_factory, clock):
    user = user_factory(role="agent")
    clock.advance(hours=1)
    assert user.change_role("supervisor", now=clock.now()) == {"role": {"before": "agent", "after": "supervisor"}}
    assert (user.role, user.version, user.updated_at) == ("supervisor", 2, clock.now())


def test_change_role_drops_availability_when_staff_becomes_customer(user_factory, clock):
    user = user_factory(role="agent")
    user.set_availability("away", now=clock.now())
    changes = user.change_role("customer", now=clock.now())
    assert changes == {
        "role": {"before": "agent", "after": "customer"},
        "availability": {"before": "away", "after": "offline"},
    }
    assert user.availability == "offline"


def test_change_role_reports_no_availability_change_when_already_offline(user_factory, clock):
    user = user_factory(role="agent")
    assert set(user.change_role("customer", now=clock.now())) == {"role"}


def test_change_role_keeps_availability_between_staff_roles(user_factory, clock):
    user = user_factory(role="agent")
    user.set_availability("online", now=clock.now())
    user.change_role("admin", now=clock.now())
    assert user.availability == "online"


def test_change_role_is_a_no_op_when_role_is_the_same(user_factory, clock):
    user = user_factory(role="agent")
    assert user.change_role("agent", now=clock.now()) == {}
    assert user.version == 1


def test_change_role_rejects_unknown_role(user_factory, clock):
    user = user_factory(role="agent")
    with pytest.raises(ValidationFailed) as exc:
        user.change_role("owner", now=clock.now())
    assert "role" in exc.value.errors
    assert user.role == "agent"


# User.set_availability


def test_set_availability_returns_previous_value_and_bumps_version(user_factory, clock):
    user = user_factory(role="agent")
    clock.advance(minutes=1)
    assert user.set_availability("online", now=clock.now()) == "offline"
    assert (user.availability, user.version, user.updated_at) == ("online", 2, clock.now())


def test_set_availability_returns_none_when_unchanged(user_factory, clock):
    user = user_factory(role="supervisor")
    assert user.set_availability("offline", now=clock.now()) is None
    assert user.version == 1


def test_set_availability_rejects_unknown_value(user_factory, clock):
    user = user_factory(role="agent")
    with pytest.raises(ValidationFailed) as exc:
        user.set_availability("busy", now=clock.now())
    assert "availability" in exc.value.errors


def test_set_availability_rejects_customers(user_factory, clock):
    user = user_factory(role="customer")
    with pytest.raises(ValidationFailed) as exc:
        user.set_availability("online", now=clock.now())
    assert exc.value.errors == {"availability": ["Customers have no availability."]}


@pytest.mark.parametrize("availability", ["online", "away"])
def test_set_availability_rejects_going_online_or_away_when_inactive(user_factory, clock, availability):
    user = user_factory(role="agent", status="inactive")
    with pytest.raises(ValidationFailed):
        user.set_availability(availability, now=clock.now())
    assert user.availability == "offline"


def test_set_availability_allows_offline_when_inactive(user_factory, clock):
    user = user_factory(role="agent")
    user.set_availability("online", now=clock.now())
    user.status = "inactive"  # e.g. a row written before inactive accounts were forced offline
    assert user.set_availability("offline", now=clock.now()) == "online"


# User.deactivate


def test_deactivate_marks_inactive_and_offline(user_factory, clock):
    user = user_factory(role="agent")
    user.set_availability("online", now=clock.now())
    clock.advance(minutes=1)
    changes = user.deactivate(now=clock.now())
    assert changes == {
        "status": {"before": "active", "after": "inactive"},
        "availability": {"before": "online", "after": "offline"},
    }
    assert (user.is_active, user.version, user.updated_at) == (False, 3, clock.now())


def test_deactivate_reports_only_status_when_offline(user_factory, clock):
    user = user_factory(role="customer", status="on_leave")
    assert user.deactivate(now=clock.now()) == {"status": {"before": "on_leave", "after": "inactive"}}


def test_deactivate_is_a_no_op_when_already_inactive(user_factory, clock):
    user = user_factory(status="inactive")
    assert user.deactivate(now=clock.now()) == {}
    assert user.version == 1


def test_record_login_sets_last_login_without_a_new_version(user_factory, clock):
    user = user_factory()
    clock.advance(hours=2)
    user.record_login(now=clock.now())
    assert (user.last_login_at, user.version) == (clock.now(), 1)


# Department and Organization


def test_department_update_returns_changes_and_strips_name(department_factory, clock):
    department = department_factory(name=" Support ", default_sla_hours=8.0)
    assert department.name == "Support"
    clock.advance(minutes=1)
    changes = department.update({"name": " Billing ", "default_sla_hours": 8.0}, now=clock.now())
    assert changes == {"name": {"before": "Support", "after": "Billing"}}
    assert department.updated_at == clock.now()


def test_department_update_keeps_updated_at_when_nothing_changed(department_factory, clock):
    department = department_factory(name="Support")
    before = department.updated_at
    clock.advance(minutes=1)
    assert department.update({"name": "Support "}, now=clock.now()) == {}
    assert department.updated_at == before


def test_department_update_rejects_unknown_fields(department_factory, clock):
    with pytest.raises(ValidationFailed) as exc:
        department_factory().update({"id": "other"}, now=clock.now())
    assert "id" in exc.value.errors


def test_organization_update_returns_changes(organization_factory, clock):
    organization = organization_factory(name="Acme")
    changes = organization.update({"shared_tickets": True, "vip": True, "domain": "acme.test"}, now=clock.now())
    assert changes == {
        "shared_tickets": {"before": False, "after": True},
        "vip": {"before": False, "after": True},
        "domain": {"before": None, "after": "acme.test"},
    }


def test_organization_update_rejects_unknown_fields(organization_factory, clock):
    with pytest.raises(ValidationFailed):
        organization_factory().update({"member_count": 3}, now=clock.now())


# RefreshToken.spend


def test_refresh_token_expires_after_its_lifetime(refresh_token_factory, clock):
    token = refresh_token_factory()
    assert token.expires_at - token.issued_at == RefreshToken.LIFETIME == timedelta(days=7)


def test_spend_marks_token_used(refresh_token_factory, clock):
    token = refresh_token_factory()
    clock.advance(days=1)
    token.spend(now=clock.now())
    assert token.used_at == clock.now()


def test_spend_accepts_token_just_before_expiry(refresh_token_factory, clock):
    token = refresh_token_factory()
    token.spend(now=token.expires_at - timedelta(microseconds=1))
    assert token.used_at is not None


def test_spend_rejects_token_when_expired(refresh_token_factory, clock):
    token = refresh_token_factory()
    with pytest.raises(InvalidRefreshToken):
        token.spend(now=token.expires_at)
    assert token.used_at is None


def test_spend_rejects_token_when_revoked(refresh_token_factory, clock):
    token = refresh_token_factory()
    token.revoked_at = clock.now()
    with pytest.raises(InvalidRefreshToken):
        token.spend(now=clock.now())
    assert token.used_at is None


def test_spend_reports_reuse_when_already_used(refresh_token_factory, clock):
    token = refresh_token_factory()
    token.spend(now=clock.now())
    first_use = token.used_at
    clock.advance(seconds=30)
    with pytest.raises(RefreshTokenReused):
        token.spend(now=clock.now())
    assert token.used_at == first_use


def test_spend_reports_invalid_not_reuse_when_used_token_was_revoked(refresh_token_factory, clock):
    token = refresh_token_factory()
    token.spend(now=clock.now())
    token.revoked_at = clock.now()
    with pytest.raises(InvalidRefreshToken) as exc:
        token.spend(now=clock.now())
    assert not isinstance(exc.value, RefreshTokenReused)
