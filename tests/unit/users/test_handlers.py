"""The users handlers on a real, migrated database with a real UnitOfWork: state, the events recorded in the
outbox in the same transaction, and nothing recorded when a handler raises."""

import uuid
from datetime import timedelta

import pytest

from helpdesk_common.resources import SqlAlchemyNamedRepository
from helpdesk_contracts.events import validate_envelope
from services.users import handlers
from services.users.adapters.passwords import Argon2PasswordHasher
from services.users.adapters.repository import SqlAlchemyUserRepository
from services.users.domain.errors import (
    Conflict,
    DepartmentInUse,
    DepartmentNotFound,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    OrganizationInUse,
    OrganizationNotFound,
    RefreshTokenReused,
    UserNotFound,
    ValidationFailed,
    WeakPassword,
)
from services.users.domain.model import RefreshToken, User

PASSWORD = "s3cret-pass"
NEW_PASSWORD = "n3w-secret-pass"
UNKNOWN_ID = str(uuid.UUID(int=1))

USER_KEYS = {
    "id",
    "email",
    "name",
    "role",
    "status",
    "availability",
    "department_id",
    "organization_id",
    "skills",
    "phone",
    "max_concurrent_tickets",
    "max_concurrent_chats",
    "last_login_at",
    "created_at",
    "updated_at",
    "version",
    "tokens_valid_after",
}


def types(events):
    return [e["type"] for e in events]


@pytest.fixture
def stored(new_uow):
    """Load an entity in a fresh session, as another request would see it."""

    def load(cls, key):
        with new_uow() as uow:
            return uow.session.get(cls, key)

    return load


@pytest.fixture
def online_agent(create_user, run):
    def make(**overrides):
        agent = create_user(role=overrides.pop("role", "agent"), **overrides)
        return run(handlers.set_availability, agent["id"], "online")

    return make


@pytest.fixture
def reset_token(run, outbox):
    """Request a reset for ``email`` and return the token the recorded event carries."""

    def request(email):
        run(handlers.request_password_reset, email)
        return outbox("user.password_reset_requested")[-1]["data"]["reset_token"]

    return request


# register_customer / create_user ------------------------------------------------------------------


def test_register_customer_creates_customer_and_records_user_created(run, outbox, clock):
    user = run(handlers.register_customer, {"email": "Ana@Example.COM", "name": " Ana ", "password": PASSWORD})
    assert set(user) == USER_KEYS
    assert (user["email"], user["name"], user["role"], user["status"]) == (
        "ana@example.com",
        "Ana",
        "customer",
        "active",
    )
    assert user["created_at"] == clock.now().isoformat()
    [event] = outbox()
    assert (event["type"], event["producer"], event["data"]) == ("user.created", "users", {"user": user})
    validate_envelope(event)


def test_register_customer_never_exposes_the_password(run, outbox):
    user = run(handlers.register_customer, {"email": "ana@example.com", "name": "Ana", "password": PASSWORD})
    text = repr(user) + repr(outbox())
    assert PASSWORD not in text
    assert "argon2" not in text


def test_register_customer_rejects_duplicate_email_in_any_case(run, outbox):
    run(handlers.register_customer, {"email": "ana@example.com", "name": "Ana", "password": PASSWORD})
    with pytest.raises(EmailAlreadyRegistered):
        run(handlers.register_customer, {"email": "ANA@example.com", "name": "Ana 2", "password": PASSWORD})
    assert types(outbox()) == ["user.created"]


@pytest.mark.parametrize("password", ["short1", "lettersonly", "12345678901", "ana12345"])
def test_register_customer_rejects_weak_password(run, outbox, password):
    with pytest.raises(WeakPassword) as exc:
        run(handlers.register_customer, {"email": "ana12345@example.com", "name": "Ana", "password": password})
    assert exc.value.errors["password"]
    assert outbox() == []
    assert run(handlers.list_users, None, 1, 20)["total"] == 0


def test_register_customer_rejects_too_long_password(run, outbox):
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.register_customer, {"email": "ana@example.com", "name": "Ana", "password": "a1" * 65})
    assert "password" in exc.value.errors
    assert outbox() == []


def test_register_customer_rejects_a_role_field(run, outbox):
    with pytest.raises(ValidationFailed) as exc:
        run(
            handlers.register_customer,
            {"email": "ana@example.com", "name": "Ana", "password": PASSWORD, "role": "admin"},
        )
    assert "role" in exc.value.errors
    assert outbox() == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email", "name": "Ana", "password": PASSWORD}, "email"),
        ({"email": "ana@example.com", "name": "   ", "password": PASSWORD}, "name"),
        ({"email": "ana@example.com", "password": PASSWORD}, "name"),
    ],
)
def test_register_customer_rejects_invalid_input(run, outbox, data, field):
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.register_customer, data)
    assert field in exc.value.errors
    assert outbox() == []


def test_register_customer_rejects_unknown_organization(run, outbox):
    with pytest.raises(ValidationFailed) as raised:
        run(
            handlers.register_customer,
            {"email": "ana@example.com", "name": "Ana", "password": PASSWORD, "organization_id": UNKNOWN_ID},
        )
    assert raised.value.errors == {"organization_id": ["No such organization."]}
    assert outbox() == []


def test_register_customer_joins_an_existing_organization(run, create_organization):
    organization = create_organization()
    user = run(
        handlers.register_customer,
        {"email": "ana@example.com", "name": "Ana", "password": PASSWORD, "organization_id": organization["id"]},
    )
    assert user["organization_id"] == organization["id"]
    assert run(handlers.get_organization, organization["id"])["member_count"] == 1


def test_create_user_creates_agent_with_department_and_skills(create_user, create_department, outbox):
    department = create_department()
    user = create_user(
        role="agent", department_id=department["id"], skills=["vpn", "billing", "vpn"], max_concurrent_tickets=4
    )
    assert (user["role"], user["department_id"], user["skills"]) == ("agent", department["id"], ["billing", "vpn"])
    assert user["max_concurrent_tickets"] == 4
    assert outbox("user.created")[-1]["data"]["user"] == user


def test_create_user_rejects_unknown_department_naming_the_field(create_user, outbox):
    with pytest.raises(ValidationFailed) as raised:
        create_user(role="agent", department_id=UNKNOWN_ID)
    assert raised.value.errors == {"department_id": ["No such department."]}
    assert outbox() == []


def test_create_user_rejects_unknown_role(create_user, outbox):
    with pytest.raises(ValidationFailed) as exc:
        create_user(role="root")
    assert "role" in exc.value.errors
    assert outbox() == []


def test_create_user_skips_password_policy_when_told_to(run):
    user = run(
        handlers.create_user,
        {"email": "demo@example.com", "name": "Demo", "password": "demo"},
        enforce_password_policy=False,
    )
    assert run(handlers.authenticate, "demo@example.com", "demo")["id"] == user["id"]


def test_create_user_records_nothing_when_a_concurrent_registration_wins(create_user, outbox, monkeypatch):
    create_user(email="race@example.com")
    # the competing request committed after this one checked the e-mail
    monkeypatch.setattr(SqlAlchemyUserRepository, "find_user_by_email", lambda self, email: None)
    with pytest.raises(EmailAlreadyRegistered):
        create_user(email="race@example.com")
    assert types(outbox()) == ["user.created"]


def test_create_user_raises_email_already_registered_when_a_concurrent_registration_wins(create_user, monkeypatch):
    create_user(email="race@example.com")
    monkeypatch.setattr(SqlAlchemyUserRepository, "find_user_by_email", lambda self, email: None)
    with pytest.raises(EmailAlreadyRegistered):
        create_user(email="race@example.com")


# authenticate -----------------------------------------------------------------------------------


def test_authenticate_returns_user_and_records_login(create_user, run, clock):
    user = create_user(email="ana@example.com")
    clock.advance(hours=1)
    authenticated = run(handlers.authenticate, " ANA@example.com ", PASSWORD)
    assert authenticated["id"] == user["id"]
    assert authenticated["last_login_at"] == clock.now().isoformat()
    assert run(handlers.get_user, user["id"])["last_login_at"] == clock.now().isoformat()


def test_authenticate_records_no_event(create_user, run, outbox):
    create_user(email="ana@example.com")
    before = outbox()
    run(handlers.authenticate, "ana@example.com", PASSWORD)
    assert outbox() == before


@pytest.mark.parametrize(
    ("email", "password"),
    [("ana@example.com", "wrong-pass-1"), ("nobody@example.com", PASSWORD), ("ana@example.com", ""), (None, None)],
)
def test_authenticate_rejects_bad_credentials_alike(create_user, run, email, password):
    create_user(email="ana@example.com")
    with pytest.raises(InvalidCredentials) as exc:
        run(handlers.authenticate, email, password)
    assert str(exc.value) == InvalidCredentials.__doc__


def test_authenticate_rehashes_password_when_parameters_changed(run, stored, passwords):
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=8)
    user = run(
        handlers.create_user, {"email": "ana@example.com", "name": "Ana", "password": PASSWORD}, passwords=stronger
    )
    old_hash = stored(User, user["id"]).password_hash
    run(handlers.authenticate, "ana@example.com", PASSWORD)
    new_hash = stored(User, user["id"]).password_hash
    assert new_hash != old_hash
    assert not passwords.needs_rehash(new_hash)
    assert run(handlers.authenticate, "ana@example.com", PASSWORD)["id"] == user["id"]


# get_user / list_users ------------------------------------------------------------------------------


def test_get_user_returns_the_stored_user(create_user, run):
    user = create_user(phone="+1 555")
    assert run(handlers.get_user, user["id"]) == user


def test_get_user_raises_user_not_found_for_unknown_id(run):
    with pytest.raises(UserNotFound):
        run(handlers.get_user, UNKNOWN_ID)


def test_list_users_filters_by_role_status_and_department(create_user, create_department, run):
    department = create_department()
    agent = create_user(role="agent", department_id=department["id"])
    create_user(role="agent")
    create_user(role="agent", department_id=department["id"], status="on_leave")
    create_user(role="customer")
    page = run(handlers.list_users, {"role": "agent", "status": "active", "department_id": department["id"]}, 1, 20)
    assert page == {"items": [agent], "total": 1}


def test_list_users_filters_by_availability_and_organization(create_user, create_organization, online_agent, run):
    organization = create_organization()
    customer = create_user(organization_id=organization["id"])
    create_user()
    agent = online_agent()
    create_user(role="agent")
    assert [u["id"] for u in run(handlers.list_users, {"availability": "online"}, 1, 20)["items"]] == [agent["id"]]
    assert [u["id"] for u in run(handlers.list_users, {"organization_id": organization["id"]}, 1, 20)["items"]] == [
        customer["id"]
    ]


@pytest.mark.parametrize("q", ["LEE", "ana.l", "@acme.test"])
def test_list_users_q_matches_name_or_email_case_insensitively(create_user, run, q):
    ana = create_user(email="ana.lee@acme.test", name="Ana Lee")
    create_user(email="bob@example.com", name="Bob Stone")
    page = run(handlers.list_users, {"q": q}, 1, 20)
    assert page == {"items": [ana], "total": 1}


def test_list_users_q_treats_wildcards_literally(create_user, run):
    create_user(email="ann_lee@example.com", name="Ann")
    create_user(email="annxlee@example.com", name="Annx")
    assert run(handlers.list_users, {"q": "ann_lee"}, 1, 20)["total"] == 1
    assert run(handlers.list_users, {"q": "%"}, 1, 20)["total"] == 0


def test_list_users_pages_in_creation_order_with_the_full_total(create_user, run, clock):
    created = []
    for _ in range(5):
        created.append(create_user()["id"])
        clock.advance(seconds=1)
    first = run(handlers.list_users, {}, 1, 2)
    last = run(handlers.list_users, {}, 3, 2)
    assert (first["total"], last["total"]) == (5, 5)
    assert [u["id"] for u in first["items"]] == created[:2]
    assert [u["id"] for u in last["items"]] == created[4:]


def test_list_users_ignores_unknown_filters(create_user, run):
    create_user()
    assert run(handlers.list_users, {"favourite_colour": "blue"}, 1, 20)["total"] == 1


@pytest.mark.parametrize(
    ("page", "limit", "field"), [(1, 101, "limit"), (1, 0, "limit"), (0, 20, "page"), ("x", 20, "page")]
)
def test_list_users_rejects_bad_pagination(run, page, limit, field):
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.list_users, {}, page, limit)
    assert field in exc.value.errors


def test_list_users_accepts_the_maximum_limit(create_user, run):
    create_user()
    assert run(handlers.list_users, {}, 1, handlers.MAX_PAGE_SIZE)["total"] == 1


def test_list_users_rejects_unknown_role_filter(run):
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.list_users, {"role": "root"}, 1, 20)
    assert "role" in exc.value.errors


# update_user / update_profile -----------------------------------------------------------------------


def test_update_user_records_user_updated_with_the_changes(create_user, create_department, run, outbox, clock):
    department = create_department()
    user = create_user(name="Ana", role="agent")
    clock.advance(minutes=5)
    updated = run(handlers.update_user, user["id"], {"name": "Ana Lee", "department_id": department["id"]})
    assert (updated["name"], updated["department_id"], updated["version"]) == ("Ana Lee", department["id"], 2)
    assert updated["updated_at"] == clock.now().isoformat()
    event = outbox()[-1]
    assert event["type"] == "user.updated"
    assert event["data"] == {
        "user": updated,
        "changes": {
            "name": {"before": "Ana", "after": "Ana Lee"},
            "department_id": {"before": None, "after": department["id"]},
        },
    }
    assert run(handlers.get_user, user["id"]) == updated


def test_update_user_records_nothing_when_nothing_changes(create_user, run, outbox):
    user = create_user(name="Ana")
    before = outbox()
    updated = run(handlers.update_user, user["id"], {"name": "Ana"})
    assert updated["version"] == 1
    assert outbox() == before


def test_update_user_rejects_email_of_another_user(create_user, run, outbox):
    create_user(email="taken@example.com")
    user = create_user(email="ana@example.com")
    before = outbox()
    with pytest.raises(EmailAlreadyRegistered):
        run(handlers.update_user, user["id"], {"email": "TAKEN@example.com"})
    assert outbox() == before
    assert run(handlers.get_user, user["id"])["email"] == "ana@example.com"


def test_update_user_accepts_own_email_in_another_case(create_user, run):
    user = create_user(email="ana@example.com")
    assert run(handlers.update_user, user["id"], {"email": "ANA@example.com"})["email"] == "ana@example.com"


@pytest.mark.parametrize("field", ["department_id", "organization_id"])
def test_update_user_rejects_unknown_department_or_organization_naming_the_field(create_user, run, outbox, field):
    user = create_user()
    before = outbox()
    with pytest.raises(ValidationFailed) as raised:
        run(handlers.update_user, user["id"], {field: UNKNOWN_ID})
    assert list(raised.value.errors) == [field]
    assert run(handlers.get_user, user["id"])[field] is None
    assert outbox() == before


def test_update_user_raises_user_not_found_for_unknown_id(run, outbox):
    with pytest.raises(UserNotFound):
        run(handlers.update_user, UNKNOWN_ID, {"name": "X"})
    assert outbox() == []


def test_update_user_rejects_role_changes(create_user, run):
    user = create_user()
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.update_user, user["id"], {"role": "admin"})
    assert "role" in exc.value.errors


def test_update_user_deactivation_records_both_events_and_revokes_sessions(create_user, run, outbox):
    user = create_user(role="agent")
    session = run(handlers.start_session, user["id"])
    run(handlers.update_user, user["id"], {"status": "inactive"})
    assert types(outbox())[-2:] == ["user.updated", "user.deactivated"]
    assert outbox()[-1]["data"]["user"]["status"] == "inactive"
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, session["jti"])


def test_update_user_deactivation_takes_agent_offline(online_agent, run, outbox):
    agent = online_agent()
    updated = run(handlers.update_user, agent["id"], {"status": "inactive"})
    assert updated["availability"] == "offline"
    assert outbox("user.deactivated")[-1]["data"]["user"]["availability"] == "offline"


def test_update_profile_changes_name_and_phone(create_user, run, outbox):
    user = create_user(name="Ana")
    updated = run(handlers.update_profile, user["id"], {"name": "Ana Lee", "phone": "+44 20"})
    assert (updated["name"], updated["phone"]) == ("Ana Lee", "+44 20")
    assert outbox()[-1]["data"]["changes"] == {
        "name": {"before": "Ana", "after": "Ana Lee"},
        "phone": {"before": None, "after": "+44 20"},
    }


@pytest.mark.parametrize("field", ["email", "status", "department_id", "skills"])
def test_update_profile_rejects_fields_reserved_to_admins(create_user, run, outbox, field):
    user = create_user()
    before = outbox()
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.update_profile, user["id"], {field: "x"})
    assert field in exc.value.errors
    assert outbox() == before


def test_update_profile_raises_user_not_found_for_unknown_id(run):
    with pytest.raises(UserNotFound):
        run(handlers.update_profile, UNKNOWN_ID, {"name": "X"})


# change_role / set_availability / deactivate_user ---------------------------------------------------


def test_change_role_records_user_updated(create_user, run, outbox):
    user = create_user(role="agent")
    updated = run(handlers.change_role, user["id"], "supervisor")
    assert (updated["role"], updated["version"]) == ("supervisor", 2)
    event = outbox()[-1]
    assert (event["type"], event["data"]["changes"]) == (
        "user.updated",
        {"role": {"before": "agent", "after": "supervisor"}},
    )


def test_change_role_to_customer_takes_agent_offline(online_agent, run, outbox):
    agent = online_agent()
    updated = run(handlers.change_role, agent["id"], "customer")
    assert (updated["role"], updated["availability"]) == ("customer", "offline")
    assert outbox()[-1]["data"]["changes"]["availability"] == {"before": "online", "after": "offline"}
    assert run(handlers.list_available_agents, None, None) == []


def test_change_role_records_nothing_when_role_is_the_same(create_user, run, outbox):
    user = create_user(role="agent")
    before = outbox()
    assert run(handlers.change_role, user["id"], "agent")["version"] == 1
    assert outbox() == before


def test_change_role_rejects_unknown_role(create_user, run, outbox):
    user = create_user(role="agent")
    before = outbox()
    with pytest.raises(ValidationFailed):
        run(handlers.change_role, user["id"], "owner")
    assert outbox() == before
    assert run(handlers.get_user, user["id"])["role"] == "agent"


def test_change_role_raises_user_not_found_for_unknown_id(run):
    with pytest.raises(UserNotFound):
        run(handlers.change_role, UNKNOWN_ID, "agent")


def test_set_availability_records_agent_availability_changed(create_user, create_department, run, outbox):
    department = create_department()
    agent = create_user(role="agent", department_id=department["id"], skills=["vpn"])
    updated = run(handlers.set_availability, agent["id"], "online")
    assert updated["availability"] == "online"
    event = outbox()[-1]
    assert event["type"] == "agent.availability_changed"
    assert event["data"] == {
        "user_id": agent["id"],
        "availability": "online",
        "previous": "offline",
        "department_id": department["id"],
        "skills": ["vpn"],
    }


def test_set_availability_records_nothing_when_unchanged(create_user, run, outbox):
    agent = create_user(role="agent")
    before = outbox()
    run(handlers.set_availability, agent["id"], "offline")
    assert outbox() == before


@pytest.mark.parametrize(("role", "availability"), [("customer", "online"), ("agent", "busy")])
def test_set_availability_rejects_customers_and_unknown_values(create_user, run, outbox, role, availability):
    user = create_user(role=role)
    before = outbox()
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.set_availability, user["id"], availability)
    assert "availability" in exc.value.errors
    assert outbox() == before


def test_set_availability_raises_user_not_found_for_unknown_id(run):
    with pytest.raises(UserNotFound):
        run(handlers.set_availability, UNKNOWN_ID, "online")


def test_deactivate_user_records_user_deactivated(online_agent, run, outbox):
    agent = online_agent()
    deactivated = run(handlers.deactivate_user, agent["id"])
    assert (deactivated["status"], deactivated["availability"]) == ("inactive", "offline")
    event = outbox()[-1]
    assert (event["type"], event["data"]) == ("user.deactivated", {"user": deactivated})


def test_deactivate_user_revokes_every_session(create_user, run):
    user = create_user()
    sessions = [run(handlers.start_session, user["id"]) for _ in range(2)]
    run(handlers.deactivate_user, user["id"])
    for session in sessions:
        with pytest.raises(InvalidRefreshToken):
            run(handlers.rotate_refresh_token, session["jti"])


def test_deactivate_user_blocks_authenticate_and_start_session(create_user, run):
    user = create_user(email="ana@example.com")
    run(handlers.deactivate_user, user["id"])
    with pytest.raises(InvalidCredentials):
        run(handlers.authenticate, "ana@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):
        run(handlers.start_session, user["id"])


def test_deactivate_user_records_nothing_when_already_inactive(create_user, run, outbox):
    user = create_user()
    run(handlers.deactivate_user, user["id"])
    before = outbox()
    assert run(handlers.deactivate_user, user["id"])["status"] == "inactive"
    assert outbox() == before


def test_deactivate_user_raises_user_not_found_for_unknown_id(run, outbox):
    with pytest.raises(UserNotFound):
        run(handlers.deactivate_user, UNKNOWN_ID)
    assert outbox() == []


# list_available_agents ------------------------------------------------------------------------------


def test_list_available_agents_returns_only_online_active_agents_and_supervisors(create_user, online_agent, run):
    agent = online_agent(name="Anna")
    supervisor = online_agent(name="Bea", role="supervisor")
    online_agent(name="Admin", role="admin")
    away = online_agent(name="Away")
    run(handlers.set_availability, away["id"], "away")
    create_user(role="agent", name="Offline")
    gone = online_agent(name="Gone")
    run(handlers.deactivate_user, gone["id"])
    on_leave = online_agent(name="Leave")
    run(handlers.update_user, on_leave["id"], {"status": "on_leave"})
    create_user(role="customer", name="Customer")
    assert [a["id"] for a in run(handlers.list_available_agents, None, None)] == [agent["id"], supervisor["id"]]


def test_list_available_agents_filters_by_department(create_department, online_agent, run):
    support, billing = create_department(), create_department()
    agent = online_agent(department_id=support["id"])
    online_agent(department_id=billing["id"])
    online_agent()
    assert [a["id"] for a in run(handlers.list_available_agents, support["id"], None)] == [agent["id"]]


def test_list_available_agents_filters_by_skill(online_agent, run):
    agent = online_agent(skills=["billing", "vpn"])
    online_agent(skills=["billing"])
    online_agent(skills=["vpn-advanced"])
    assert [a["id"] for a in run(handlers.list_available_agents, None, "vpn")] == [agent["id"]]


def test_list_available_agents_combines_department_and_skill(create_department, online_agent, run):
    support = create_department()
    agent = online_agent(department_id=support["id"], skills=["vpn"])
    online_agent(department_id=support["id"], skills=["billing"])
    online_agent(skills=["vpn"])
    assert [a["id"] for a in run(handlers.list_available_agents, support["id"], "vpn")] == [agent["id"]]


def test_change_password_replaces_password_and_records_password_changed(create_user, run, outbox, clock):
    user = create_user(email="ana@example.com")
    assert run(handlers.change_password, user["id"], PASSWORD, NEW_PASSWORD) is None
    assert run(handlers.authenticate, "ana@example.com", NEW_PASSWORD)["id"] == user["id"]
    with pytest.raises(InvalidCredentials):
        run(handlers.authenticate, "ana@example.com", PASSWORD)
    event = outbox()[-1]
    assert (event["type"], event["data"]) == (
        "user.password_changed",
        {"user_id": user["id"], "email": "ana@example.com", "tokens_valid_after": clock.now().isoformat()},
    )


def test_change_password_revokes_every_refresh_token(create_user, run):
    user = create_user()
    sessions = [run(handlers.start_session, user["id"]) for _ in range(2)]
    run(handlers.change_password, user["id"], PASSWORD, NEW_PASSWORD)
    for session in sessions:
        with pytest.raises(InvalidRefreshToken):
            run(handlers.rotate_refresh_token, session["jti"])


def test_change_password_rejects_wrong_current_password(create_user, run, outbox):
    user = create_user(email="ana@example.com")
    before = outbox()
    with pytest.raises(InvalidCredentials) as exc:
        run(handlers.change_password, user["id"], "wrong-pass-1", NEW_PASSWORD)
    assert "current_password" in exc.value.errors
    assert outbox() == before
    assert run(handlers.authenticate, "ana@example.com", PASSWORD)["id"] == user["id"]


def test_change_password_rejects_weak_new_password_and_keeps_sessions(create_user, run, outbox):
    user = create_user(email="ana@example.com")
    session = run(handlers.start_session, user["id"])
    before = outbox()
    with pytest.raises(WeakPassword):
        run(handlers.change_password, user["id"], PASSWORD, "weak")
    assert outbox() == before
    assert run(handlers.rotate_refresh_token, session["jti"])["family_id"] == session["family_id"]


def test_change_password_raises_user_not_found_for_unknown_id(run):
    with pytest.raises(UserNotFound):
        run(handlers.change_password, UNKNOWN_ID, PASSWORD, NEW_PASSWORD)


# sessions: start_session / rotate_refresh_token / revoke_session -----------------------------------


def test_start_session_opens_a_family_for_seven_days(create_user, run, stored, clock):
    user = create_user()
    session = run(handlers.start_session, user["id"])
    assert session["expires_at"] == (clock.now() + timedelta(days=7)).isoformat()
    token = stored(RefreshToken, session["jti"])
    assert (token.family_id, token.user_id, token.used_at, token.revoked_at) == (
        session["family_id"],
        user["id"],
        None,
        None,
    )


def test_start_session_raises_user_not_found_for_unknown_id(run):
    with pytest.raises(UserNotFound):
        run(handlers.start_session, UNKNOWN_ID)


def test_rotate_refresh_token_issues_successor_in_the_same_family(create_user, run, stored, clock):
    user = create_user()
    first = run(handlers.start_session, user["id"])
    clock.advance(days=1)
    second = run(handlers.rotate_refresh_token, first["jti"])
    assert second["jti"] != first["jti"]
    assert (second["family_id"], second["user"]["id"]) == (first["family_id"], user["id"])
    assert second["expires_at"] == (clock.now() + timedelta(days=7)).isoformat()
    assert stored(RefreshToken, first["jti"]).used_at == clock.now()


def test_rotate_refresh_token_reuse_revokes_the_family(create_user, run):
    user = create_user()
    other = run(handlers.start_session, user["id"])
    first = run(handlers.start_session, user["id"])
    second = run(handlers.rotate_refresh_token, first["jti"])
    with pytest.raises(RefreshTokenReused):
        run(handlers.rotate_refresh_token, first["jti"])
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, second["jti"])
    # another session of the same user lives on
    assert run(handlers.rotate_refresh_token, other["jti"])["family_id"] == other["family_id"]


def test_rotate_refresh_token_rejects_expired_token(create_user, run, clock):
    session = run(handlers.start_session, create_user()["id"])
    clock.advance(days=7)
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, session["jti"])


def test_rotate_refresh_token_revokes_family_of_an_inactive_user(create_user, run, new_uow, stored):
    user = create_user()
    session = run(handlers.start_session, user["id"])
    with new_uow() as uow:  # inactive without its sessions revoked, e.g. set so by an older release
        uow.session.get(User, user["id"]).status = "inactive"
        uow.commit()
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, session["jti"])
    assert stored(RefreshToken, session["jti"]).revoked_at is not None


@pytest.mark.parametrize("jti", ["0" * 32, "", None])
def test_rotate_refresh_token_rejects_unknown_token(run, jti):
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, jti)


def test_rotate_refresh_token_records_no_event(create_user, run, outbox):
    session = run(handlers.start_session, create_user()["id"])
    before = outbox()
    run(handlers.rotate_refresh_token, session["jti"])
    assert outbox() == before


def test_revoke_session_revokes_only_that_family(create_user, run):
    user = create_user()
    kept = run(handlers.start_session, user["id"])
    first = run(handlers.start_session, user["id"])
    second = run(handlers.rotate_refresh_token, first["jti"])
    assert run(handlers.revoke_session, first["jti"]) is None
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, second["jti"])
    assert run(handlers.rotate_refresh_token, kept["jti"])["family_id"] == kept["family_id"]


def test_revoke_session_ignores_unknown_token(run):
    assert run(handlers.revoke_session, "0" * 32) is None


# password reset ---------------------------------------------------------------------------------


def test_request_password_reset_records_event_with_token_valid_one_hour(create_user, run, outbox, clock):
    user = create_user(email="ana@example.com", name="Ana")
    run(handlers.request_password_reset, " ANA@example.com")
    event = outbox()[-1]
    assert event["type"] == "user.password_reset_requested"
    data = event["data"]
    assert (data["user_id"], data["email"], data["name"]) == (user["id"], "ana@example.com", "Ana")
    assert data["expires_at"] == (clock.now() + timedelta(hours=1)).isoformat()
    assert len(data["reset_token"]) >= 32


def test_request_password_reset_is_silent_for_unknown_email(run, outbox):
    assert run(handlers.request_password_reset, "nobody@example.com") is None
    assert outbox() == []


def test_request_password_reset_is_silent_for_inactive_user(create_user, run, outbox):
    user = create_user(email="ana@example.com")
    run(handlers.deactivate_user, user["id"])
    before = outbox()
    assert run(handlers.request_password_reset, "ana@example.com") is None
    assert outbox() == before


def test_reset_password_sets_new_password_and_records_password_changed(create_user, run, outbox, reset_token):
    user = create_user(email="ana@example.com")
    token = reset_token("ana@example.com")
    assert run(handlers.reset_password, token, NEW_PASSWORD) is None
    assert run(handlers.authenticate, "ana@example.com", NEW_PASSWORD)["id"] == user["id"]
    with pytest.raises(InvalidCredentials):
        run(handlers.authenticate, "ana@example.com", PASSWORD)
    assert outbox()[-1]["type"] == "user.password_changed"


def test_reset_password_accepts_a_token_only_once(create_user, run, reset_token):
    create_user(email="ana@example.com")
    token = reset_token("ana@example.com")
    run(handlers.reset_password, token, NEW_PASSWORD)
    with pytest.raises(InvalidResetToken):
        run(handlers.reset_password, token, "an0ther-secret")


def test_reset_password_revokes_every_refresh_token(create_user, run, reset_token):
    user = create_user(email="ana@example.com")
    session = run(handlers.start_session, user["id"])
    run(handlers.reset_password, reset_token("ana@example.com"), NEW_PASSWORD)
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, session["jti"])


def test_reset_password_rejects_expired_token(create_user, run, outbox, reset_token, clock):
    create_user(email="ana@example.com")
    token = reset_token("ana@example.com")
    clock.advance(hours=1, seconds=1)
    before = outbox()
    with pytest.raises(InvalidResetToken):
        run(handlers.reset_password, token, NEW_PASSWORD)
    assert outbox() == before
    assert run(handlers.authenticate, "ana@example.com", PASSWORD)


def test_reset_password_accepts_token_just_before_expiry(create_user, run, reset_token, clock):
    create_user(email="ana@example.com")
    token = reset_token("ana@example.com")
    clock.advance(minutes=59, seconds=59)
    run(handlers.reset_password, token, NEW_PASSWORD)
    assert run(handlers.authenticate, "ana@example.com", NEW_PASSWORD)


@pytest.mark.parametrize("token", ["not-a-token", "", None])
def test_reset_password_rejects_unknown_token(run, token):
    with pytest.raises(InvalidResetToken):
        run(handlers.reset_password, token, NEW_PASSWORD)


def test_reset_password_rejects_weak_password_and_keeps_token_usable(create_user, run, outbox, reset_token):
    create_user(email="ana@example.com")
    token = reset_token("ana@example.com")
    before = outbox()
    with pytest.raises(WeakPassword):
        run(handlers.reset_password, token, "weak")
    assert outbox() == before
    run(handlers.reset_password, token, NEW_PASSWORD)
    assert run(handlers.authenticate, "ana@example.com", NEW_PASSWORD)


# departments ------------------------------------------------------------------------------------


def test_create_department_records_department_created(run, outbox, clock):
    department = run(
        handlers.create_department,
        {
            "name": " Support ",
            "description": "First line",
            "default_sla_hours": 8,
            "notification_email": "support@example.com",
        },
    )
    assert department["name"] == "Support"
    assert (department["member_count"], department["default_sla_hours"]) == (0, 8.0)
    assert department["created_at"] == clock.now().isoformat()
    [event] = outbox()
    assert event["type"] == "department.created"
    assert event["data"]["department"] == {k: v for k, v in department.items() if k != "member_count"}
    validate_envelope(event)


@pytest.mark.parametrize("kind", ["department", "organization"])
def test_department_and_organization_events_carry_the_actor_of_each_write(run, outbox, kind):
    actor = str(uuid.uuid4())
    created = run(getattr(handlers, f"create_{kind}"), {"name": "Acme"}, actor=actor)
    run(getattr(handlers, f"update_{kind}"), created["id"], {"name": "Acme Corp"}, actor=actor)
    run(getattr(handlers, f"delete_{kind}"), created["id"], actor=actor)

    events = outbox()
    assert types(events) == [f"{kind}.created", f"{kind}.updated", f"{kind}.deleted"]
    assert [e["data"]["actor_id"] for e in events] == [actor] * 3
    for event in events:
        validate_envelope(event)


@pytest.mark.parametrize("name", ["Support", "support", "  SUPPORT ", "ＳＵＰＰＯＲＴ"])
def test_create_department_rejects_a_taken_name_in_any_case(create_department, run, outbox, name):
    create_department(name="Support")
    before = outbox()
    with pytest.raises(Conflict) as exc:
        run(handlers.create_department, {"name": name})
    assert "name" in exc.value.errors
    assert outbox() == before


@pytest.mark.parametrize(
    "data", [{}, {"name": ""}, {"name": "X", "default_sla_hours": -1}, {"name": "X", "colour": "red"}]
)
def test_create_department_rejects_invalid_input(run, outbox, data):
    with pytest.raises(ValidationFailed):
        run(handlers.create_department, data)
    assert outbox() == []


def test_create_department_raises_conflict_when_a_concurrent_create_wins(create_department, monkeypatch):
    create_department(name="Support")
    monkeypatch.setattr(SqlAlchemyNamedRepository, "find_by_name", lambda self, name: None)
    with pytest.raises(Conflict):
        create_department(name="Support")


def test_get_department_counts_members(create_department, create_user, run):
    department = create_department()
    create_user(role="agent", department_id=department["id"])
    create_user(role="agent", department_id=department["id"])
    create_user(role="agent")
    assert run(handlers.get_department, department["id"])["member_count"] == 2


def test_get_department_raises_department_not_found_for_unknown_id(run):
    with pytest.raises(DepartmentNotFound):
        run(handlers.get_department, UNKNOWN_ID)


def test_list_departments_pages_by_name_with_member_counts(create_department, create_user, run):
    for name in ("Sales", "Billing", "Support"):
        create_department(name=name)
    billing = run(handlers.list_departments, 1, 1)["items"][0]
    create_user(role="agent", department_id=billing["id"])
    first = run(handlers.list_departments, 1, 2)
    second = run(handlers.list_departments, 2, 2)
    assert [d["name"] for d in first["items"]] == ["Billing", "Sales"]
    assert [d["name"] for d in second["items"]] == ["Support"]
    assert (first["total"], second["total"]) == (3, 3)
    assert [d["member_count"] for d in first["items"]] == [1, 0]


@pytest.mark.parametrize(("page", "limit"), [(1, 101), (0, 10), (1, -1)])
def test_list_departments_rejects_bad_pagination(run, page, limit):
    with pytest.raises(ValidationFailed):
        run(handlers.list_departments, page, limit)


def test_update_department_records_department_updated(create_department, run, outbox, clock):
    department = create_department(name="Support")
    clock.advance(minutes=1)
    updated = run(handlers.update_department, department["id"], {"name": "Help", "default_sla_hours": 4})
    assert (updated["name"], updated["default_sla_hours"]) == ("Help", 4.0)
    assert updated["updated_at"] == clock.now().isoformat()
    event = outbox()[-1]
    assert event["type"] == "department.updated"
    assert event["data"]["changes"] == {
        "name": {"before": "Support", "after": "Help"},
        "default_sla_hours": {"before": None, "after": 4.0},
    }
    assert run(handlers.get_department, department["id"]) == updated


def test_update_department_records_nothing_when_nothing_changes(create_department, run, outbox):
    department = create_department(name="Support")
    before = outbox()
    run(handlers.update_department, department["id"], {"name": "Support"})
    assert outbox() == before


def test_update_department_rejects_the_name_of_another_department(create_department, run, outbox):
    create_department(name="Billing")
    department = create_department(name="Support")
    before = outbox()
    with pytest.raises(Conflict):
        run(handlers.update_department, department["id"], {"name": "billing"})
    assert outbox() == before
    assert run(handlers.get_department, department["id"])["name"] == "Support"


def test_update_department_accepts_its_own_name_in_another_case(create_department, run):
    department = create_department(name="Support")
    assert run(handlers.update_department, department["id"], {"name": "SUPPORT"})["name"] == "SUPPORT"


def test_update_department_raises_department_not_found_for_unknown_id(run):
    with pytest.raises(DepartmentNotFound):
        run(handlers.update_department, UNKNOWN_ID, {"name": "X"})


def test_delete_department_records_department_deleted(create_department, run, outbox):
    department = create_department(name="Support")
    assert run(handlers.delete_department, department["id"]) is None
    event = outbox()[-1]
    assert (event["type"], event["data"]["department"]["id"]) == ("department.deleted", department["id"])
    with pytest.raises(DepartmentNotFound):
        run(handlers.get_department, department["id"])


def test_delete_department_with_members_raises_department_in_use(create_department, create_user, run, outbox):
    department = create_department()
    create_user(role="agent", department_id=department["id"])
    before = outbox()
    with pytest.raises(DepartmentInUse):
        run(handlers.delete_department, department["id"])
    assert outbox() == before
    assert run(handlers.get_department, department["id"])["member_count"] == 1


def test_delete_department_raises_department_not_found_for_unknown_id(run):
    with pytest.raises(DepartmentNotFound):
        run(handlers.delete_department, UNKNOWN_ID)


# organizations ----------------------------------------------------------------------------------


def test_create_organization_records_organization_created(run, outbox):
    organization = run(handlers.create_organization,
                       {"name": " Acme ", "domain": "acme.test", "shared_tickets": True, "vip": True})
    assert (organization["name"], organization["shared_tickets"], organization["vip"], organization["member_count"]) == (
        "Acme", True, True, 0)
    [event] = outbox()
    assert event["type"] == "organization.created"
    assert event["data"]["organization"] == {k: v for k, v in organization.items() if k != "member_count"}
    validate_envelope(event)


def test_create_organization_rejects_a_taken_name_in_any_case(create_organization, run, outbox):
    create_organization(name="Acme")
    before = outbox()
    with pytest.raises(Conflict):
        run(handlers.create_organization, {"name": "ACME"})
    assert outbox() == before


def test_get_organization_counts_members(create_organization, create_user, run):
    organization = create_organization()
    create_user(organization_id=organization["id"])
    assert run(handlers.get_organization, organization["id"])["member_count"] == 1


def test_get_organization_raises_organization_not_found_for_unknown_id(run):
    with pytest.raises(OrganizationNotFound):
        run(handlers.get_organization, UNKNOWN_ID)


def test_list_organizations_pages_by_name(create_organization, run):
    for name in ("Zeta", "Acme", "Mega"):
        create_organization(name=name)
    page = run(handlers.list_organizations, 1, 2)
    assert ([o["name"] for o in page["items"]], page["total"]) == (["Acme", "Mega"], 3)


def test_list_organizations_rejects_limit_above_maximum(run):
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.list_organizations, 1, 101)
    assert "limit" in exc.value.errors


def test_update_organization_records_organization_updated(create_organization, run, outbox):
    organization = create_organization(name="Acme")
    updated = run(handlers.update_organization, organization["id"], {"shared_tickets": True, "vip": True})
    assert (updated["shared_tickets"], updated["vip"]) == (True, True)
    assert run(handlers.get_organization, organization["id"])["vip"] is True
    event = outbox()[-1]
    assert (event["type"], event["data"]["changes"]) == (
        "organization.updated",
        {"shared_tickets": {"before": False, "after": True}, "vip": {"before": False, "after": True}},
    )
    assert event["data"]["organization"]["vip"] is True
    validate_envelope(event)


def test_update_organization_rejects_the_name_of_another_organization(create_organization, run, outbox):
    create_organization(name="Acme")
    organization = create_organization(name="Mega")
    before = outbox()
    with pytest.raises(Conflict):
        run(handlers.update_organization, organization["id"], {"name": "acme"})
    assert outbox() == before


def test_update_organization_raises_organization_not_found_for_unknown_id(run):
    with pytest.raises(OrganizationNotFound):
        run(handlers.update_organization, UNKNOWN_ID, {"name": "X"})


def test_delete_organization_records_organization_deleted(create_organization, run, outbox):
    organization = create_organization()
    run(handlers.delete_organization, organization["id"])
    assert outbox()[-1]["type"] == "organization.deleted"
    with pytest.raises(OrganizationNotFound):
        run(handlers.get_organization, organization["id"])


def test_delete_organization_with_members_raises_organization_in_use(create_organization, create_user, run, outbox):
    organization = create_organization()
    create_user(organization_id=organization["id"])
    before = outbox()
    with pytest.raises(OrganizationInUse):
        run(handlers.delete_organization, organization["id"])
    assert outbox() == before
    assert run(handlers.get_organization, organization["id"])["member_count"] == 1


def test_delete_organization_raises_organization_not_found_for_unknown_id(run):
    with pytest.raises(OrganizationNotFound):
        run(handlers.delete_organization, UNKNOWN_ID)


# every recorded event ---------------------------------------------------------------------------


def test_every_recorded_event_is_a_valid_envelope(
    create_user, create_department, create_organization, online_agent, run, outbox, reset_token
):
    department = create_department()
    organization = create_organization()
    agent = online_agent(department_id=department["id"])
    customer = create_user(organization_id=organization["id"])
    run(handlers.update_user, customer["id"], {"phone": "1"})
    run(handlers.change_role, agent["id"], "supervisor")
    run(handlers.change_password, agent["id"], PASSWORD, NEW_PASSWORD)
    reset_token(customer["email"])
    run(handlers.deactivate_user, agent["id"])
    run(handlers.update_department, department["id"], {"description": "d"})
    run(handlers.update_organization, organization["id"], {"domain": "acme.test"})
    run(handlers.update_user, customer["id"], {"organization_id": None})
    run(handlers.delete_organization, organization["id"])
    events = outbox()
    assert len({e["id"] for e in events}) == len(events) == 14
    for event in events:
        validate_envelope(event)


# finding people for @mentions ---------------------------------------------------------------------------


def test_find_users_matches_whole_emails_and_handles_ignoring_case(create_user, run):
    carlos = create_user(email="carlos@example.com", name="Carlos")
    create_user(email="carlosm@example.com", name="Carlos M")
    maria = create_user(email="maria@example.com", name="María")

    found = run(handlers.find_users, ["Carlos", "MARIA@example.com", "nobody"])

    assert [u["id"] for u in found] == [carlos["id"], maria["id"]]  # "carlos" is not a prefix match of carlosm
    assert "password_hash" not in found[0]


def test_find_users_treats_wildcards_literally(create_user, run):
    create_user(email="a_b@example.com", name="Underscore")
    create_user(email="axb@example.com", name="Other")

    assert [u["email"] for u in run(handlers.find_users, ["a_b"])] == ["a_b@example.com"]


@pytest.mark.parametrize("handles", ["carlos", [""], [1], ["x"] * 21])
def test_find_users_refuses_bad_input(run, handles):
    with pytest.raises(ValidationFailed):
        run(handlers.find_users, handles)
