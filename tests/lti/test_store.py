"""The database: single-use states and nonces, the outbox's order, leases and timestamps."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lms_export.errors import LmsExportError
from lms_export.lti import keys
from lms_export.lti.store import FAILED, PENDING, GradeTarget, Store, db_path, digest


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "tool.db")


def add_platform(store: Store, name: str = "moodle", client_id: str = "c1"):
    return store.add_platform(
        name=name,
        kind="moodle",
        issuer="https://moodle.example.edu",
        client_id=client_id,
        auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
        auth_token_url="https://moodle.example.edu/mod/lti/token.php",
        key_set_url="https://moodle.example.edu/mod/lti/certs.php",
        deployments=["1"],
    )


def launch(store: Store, platform_id: int, user: str = "u1"):
    launch_id = store.save_launch(
        platform_id=platform_id,
        deployment_id="1",
        user_id=user,
        browser="cookie",
        message_type="LtiResourceLinkRequest",
        card_id="card",
        claims={"sub": user},
    )
    return store.launch(launch_id)


TARGET = GradeTarget(
    lineitem_url="https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1",
    lineitems_url=None,
    resource_link_id="rl",
    card_id="card",
    label="Card",
    score_maximum=4,
    scopes=("https://purl.imsglobal.org/spec/lti-ags/scope/score",),
)


def test_a_state_is_taken_once_and_only_while_fresh(store):
    platform = add_platform(store)
    store.issue_state("s1", "n1", "browser", platform.id, "https://t/lti/launch")
    taken = store.take_state("s1")
    assert taken is not None and (taken.nonce, taken.browser) == ("n1", digest("browser"))
    assert store.take_state("s1") is None
    store.issue_state("s2", "n2", "browser", platform.id, "https://t/lti/launch", now=time.time() - 3600)
    assert store.take_state("s2") is None


def test_a_nonce_is_used_once_across_threads(store):
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(store.use_nonce("n"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_timestamps_of_one_learner_and_line_item_are_a_whole_second_apart(store):
    platform = add_platform(store)
    ada, bob = launch(store, platform.id, "ada"), launch(store, platform.id, "bob")
    now = 1_800_000_000.4
    stamps = [store.record_attempt(ada, {}, 1, 4, TARGET, now=now)[1].timestamp for _ in range(3)]
    assert stamps == [1_800_000_000, 1_800_000_001, 1_800_000_002]
    assert store.record_attempt(bob, {}, 1, 4, TARGET, now=now)[1].timestamp == 1_800_000_000
    assert store.record_attempt(ada, {}, 1, 4, None, now=now)[1] is None  # an attempt with nowhere to send it


def test_only_the_oldest_score_of_a_learner_and_line_item_is_due(store):
    platform = add_platform(store)
    ada = launch(store, platform.id, "ada")
    first = store.record_attempt(ada, {}, 1, 4, TARGET)[1]
    second = store.record_attempt(ada, {}, 2, 4, TARGET)[1]
    assert [d.id for d in store.claim_due("w1", 60)] == [first.id]
    assert store.claim_due("w2", 60) == []  # leased by w1, and the second waits behind it
    assert store.finish(first.id, "w1", "delivered")
    assert [d.id for d in store.claim_due("w2", 60)] == [second.id]
    assert not store.finish(second.id, "w1", "delivered")  # not w1's lease any more


def test_an_expired_lease_can_be_claimed_again(store):
    platform = add_platform(store)
    row = store.record_attempt(launch(store, platform.id), {}, 1, 4, TARGET)[1]
    assert store.claim_due("w1", lease=-1)
    assert [d.id for d in store.claim_due("w2", 60)] == [row.id]


def test_failed_scores_wait_for_a_retry(store):
    platform = add_platform(store)
    row = store.record_attempt(launch(store, platform.id), {}, 1, 4, TARGET)[1]
    store.claim_due("w", 60)
    store.finish(row.id, "w", FAILED, "score: 400 bad")
    assert store.claim_due("w", 60) == []
    assert [d.last_error for d in store.deliveries([FAILED])] == ["score: 400 bad"]
    assert store.retry_now() == 1
    assert [d.status for d in store.claim_due("w", 60)] == [PENDING]


def test_a_platform_with_grades_waiting_is_kept_unless_forced(store):
    platform = add_platform(store)
    store.record_attempt(launch(store, platform.id), {}, 1, 4, TARGET)
    with pytest.raises(LmsExportError, match="1 grade"):
        store.remove_platform("moodle")
    store.remove_platform("moodle", force=True)
    assert store.platforms() == [] and store.deliveries() == []


def test_platforms_are_unique_and_found_by_issuer_and_client(store):
    add_platform(store)
    with pytest.raises(LmsExportError, match="already registered"):
        add_platform(store, name="again")
    add_platform(store, name="second", client_id="c2")
    assert store.find_platform("https://moodle.example.edu", "c2").name == "second"
    assert store.find_platform("https://moodle.example.edu", None) is None  # two clients: ambiguous
    assert store.has_deployment(store.platform_named("moodle").id, "1")
    assert not store.has_deployment(store.platform_named("moodle").id, "2")


def test_keys_rotate_and_retire_per_platform(store):
    moodle, other = add_platform(store), add_platform(store, name="other", client_id="c2")
    first = keys.signing_key(store, moodle)
    second = keys.rotate(store, moodle)
    assert keys.signing_key(store, moodle).kid == second.kid
    assert [k.kid for k in store.keys_of(moodle)] == [second.kid, first.kid]
    assert keys.signing_key(store, other).kid not in (first.kid, second.kid)
    with pytest.raises(LmsExportError, match="signs with"):
        store.retire_key(second.kid, moodle)
    with pytest.raises(LmsExportError, match="no key"):
        store.retire_key(first.kid, other)
    store.retire_key(first.kid, moodle)
    published = keys.jwks(store.keys_of(moodle))["keys"]
    assert [k["kid"] for k in published] == [second.kid]
    assert all("d" not in k for k in published)  # public halves only
    assert store.shared_jwks_keys() == []  # a new registration is never in the shared key set


def test_a_line_item_is_created_by_one_worker_at_a_time_and_per_platform(store):
    one, two = add_platform(store).id, add_platform(store, name="other", client_id="c2").id
    assert store.claim_line_item(one, "k", "w1", 60)
    assert not store.claim_line_item(one, "k", "w2", 60)
    assert store.claim_line_item(one, "k", "w1", 60)
    store.save_line_item(one, "k", "https://lms/lineitems/1")
    assert store.line_item_url(one, "k") == "https://lms/lineitems/1"
    assert not store.claim_line_item(one, "k", "w2", 60)
    assert store.line_item_url(two, "k") is None  # the same key at another platform is another line item
    assert store.claim_line_item(two, "k", "w2", 60)


def test_invitations_work_once(store):
    token = store.create_invite(60)
    assert store.invite_valid(token)
    assert store.use_invite(token)
    assert not store.use_invite(token) and not store.invite_valid(token)


@pytest.mark.parametrize(
    ("given", "path"),
    [("tool.db", "tool.db"), ("sqlite:///tool.db", "tool.db"), ("sqlite:////var/lib/tool.db", "/var/lib/tool.db")],
)
def test_db_urls(given, path):
    assert db_path(given) == Path(path)


def test_other_databases_are_refused():
    with pytest.raises(LmsExportError, match="only SQLite"):
        db_path("postgresql://localhost/tool")


def test_the_database_survives_reopening(tmp_path):
    first = Store(tmp_path / "tool.db")
    platform = add_platform(first)
    first.record_attempt(launch(first, platform.id), {"q": "a"}, 1, 4, TARGET)
    first.close()
    again = Store(tmp_path / "tool.db")
    assert [d.score_given for d in again.deliveries()] == [1]
