"""``lms-export lti ...`` and ``lms-export serve``'s refusals, as an administrator types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lms_export.cli import main
from lms_export.lti.store import Store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tool.db"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["lti", "--db", str(db), *args])


def test_a_canvas_platform_gets_the_cloud_endpoints(db):
    added = run(
        db, "platform", "add", "canvas", "--preset", "canvas", "--client-id", "10000000000042", "--deployment", "7:abc"
    )
    assert added.exit_code == 0, added.output
    [platform] = Store(db).platforms()
    assert (platform.kind, platform.issuer, platform.client_id) == (
        "canvas",
        "https://canvas.instructure.com",
        "10000000000042",
    )
    assert platform.auth_login_url == "https://sso.canvaslms.com/api/lti/authorize_redirect"
    assert platform.auth_token_url == "https://sso.canvaslms.com/login/oauth2/token"
    assert platform.key_set_url == "https://sso.canvaslms.com/api/lti/security/jwks"
    assert Store(db).deployments(platform.id) == ["7:abc"]


def test_canvas_beta_and_self_hosted(db):
    run(db, "platform", "add", "beta", "--preset", "canvas", "--environment", "beta", "--client-id", "1")
    run(
        db,
        "platform",
        "add",
        "own",
        "--preset",
        "canvas",
        "--canvas-host",
        "https://canvas.school.edu",
        "--client-id",
        "2",
    )
    beta, own = Store(db).platform_named("beta"), Store(db).platform_named("own")
    assert beta.issuer == "https://canvas.beta.instructure.com"
    assert beta.key_set_url == "https://sso.beta.canvaslms.com/api/lti/security/jwks"
    assert own.auth_token_url == "https://canvas.school.edu/login/oauth2/token"


def test_a_moodle_platform_is_its_site(db):
    added = run(
        db,
        "platform",
        "add",
        "moodle",
        "--preset",
        "moodle",
        "--site",
        "https://moodle.school.edu/",
        "--client-id",
        "abc",
    )
    assert added.exit_code == 0, added.output
    platform = Store(db).platform_named("moodle")
    assert platform.issuer == "https://moodle.school.edu"
    assert platform.auth_login_url == "https://moodle.school.edu/mod/lti/auth.php"
    assert platform.auth_token_url == "https://moodle.school.edu/mod/lti/token.php"
    assert platform.key_set_url == "https://moodle.school.edu/mod/lti/certs.php"
    assert run(db, "platform", "add", "m2", "--preset", "moodle", "--client-id", "x").exit_code == 2


def test_a_custom_platform_needs_every_endpoint(db):
    assert run(db, "platform", "add", "x", "--preset", "custom", "--client-id", "c").exit_code == 2
    added = run(
        db, "platform", "add", "x", "--preset", "custom", "--client-id", "c", "--issuer", "https://lms.example",
        "--auth-login-url", "https://lms.example/auth", "--auth-token-url", "https://lms.example/token",
        "--key-set-url", "https://lms.example/jwks", "--auth-audience", "https://lms.example",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert Store(db).platform_named("x").auth_audience == "https://lms.example"


def test_list_deployment_and_remove(db):
    add_moodle(db)
    assert run(db, "deployment", "add", "moodle", "3").exit_code == 0
    assert run(db, "deployment", "add", "nobody", "3").exit_code == 1
    listed = run(db, "platform", "list").output
    assert (
        "moodle (moodle)" in listed and "deployments  3" in listed and "https://m.example/mod/lti/certs.php" in listed
    )
    assert (
        run(
            db, "platform", "add", "moodle", "--preset", "moodle", "--site", "https://m.example", "--client-id", "abc"
        ).exit_code
        == 1
    )
    assert run(db, "platform", "remove", "moodle").exit_code == 0
    assert run(db, "platform", "remove", "moodle").exit_code == 1
    assert Store(db).platforms() == []


def add_moodle(db: Path, name: str = "moodle", client_id: str = "abc") -> Result:
    return run(
        db, "platform", "add", name, "--preset", "moodle", "--site", "https://m.example", "--client-id", client_id
    )


def test_keys_rotate_list_and_retire_per_platform(db):
    add_moodle(db)
    add_moodle(db, "other", "def")
    made = run(db, "keys", "list", "--platform", "moodle").output.split()[0]  # each platform gets a key when added
    first = run(db, "keys", "rotate", "--platform", "moodle").stdout.strip()
    second = run(db, "keys", "rotate", "--platform", "moodle").stdout.strip()
    listed = run(db, "keys", "list", "--platform", "moodle").output
    assert listed.index(second) < listed.index(first) < listed.index(made)
    assert f"{second}  signing" in listed and f"{first}  published" in listed
    assert second not in run(db, "keys", "list", "--platform", "other").output
    assert run(db, "keys", "retire", second, "--platform", "moodle").exit_code == 1
    assert run(db, "keys", "retire", first, "--platform", "other").exit_code == 1
    assert run(db, "keys", "retire", first, "--platform", "moodle").exit_code == 0
    assert f"{first}  retired" in run(db, "keys", "list", "--platform", "moodle").output
    assert run(db, "keys", "rotate").exit_code == 2  # which platform's?


def test_endpoints_off_the_issuers_host_need_the_operator_to_allow_them(db):
    custom = ["platform", "add", "x", "--preset", "custom", "--client-id", "c", "--issuer", "https://lms.example"]
    custom += ["--auth-login-url", "https://lms.example/auth", "--key-set-url", "https://lms.example/jwks"]
    elsewhere = run(db, *custom, "--auth-token-url", "https://victim.example/token")
    assert elsewhere.exit_code == 1 and "--allow-host victim.example:443" in elsewhere.output
    audience = run(
        db, *custom, "--auth-token-url", "https://lms.example/t", "--auth-audience", "https://victim.example"
    )
    assert audience.exit_code == 1
    assert Store(db).platforms() == []
    allowed = run(db, *custom, "--auth-token-url", "https://auth.lms.example/token", "--allow-host", "auth.lms.example")
    assert allowed.exit_code == 0, allowed.output
    assert Store(db).platform_named("x").hosts == ("auth.lms.example:443",)
    assert "auth.lms.example:443" in run(db, "platform", "list").output


def test_the_canvas_developer_key_json_names_the_registrations_own_key_set(db):
    assert run(db, "platform", "add", "school", "--preset", "canvas").exit_code == 0  # its client id comes later
    printed = run(db, "config", "canvas", "--platform", "school", "--url", "https://cards.example.edu")
    assert printed.exit_code == 0, printed.output
    config = json.loads(printed.output)
    school = Store(db).platform_named("school")
    assert config["oidc_initiation_url"] == "https://cards.example.edu/lti/login"
    assert config["target_link_uri"] == "https://cards.example.edu/lti/launch"
    assert config["public_jwk_url"] == f"https://cards.example.edu/lti/jwks/{school.key_set_id}"
    assert config["scopes"] == [
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ]
    [extension] = config["extensions"]
    assert extension["domain"] == "cards.example.edu" and extension["privacy_level"] == "name_only"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {"link_selection", "assignment_selection"}
    assert {p["message_type"] for p in placements.values()} == {"LtiDeepLinkingRequest"}
    assert run(db, "platform", "update", "school", "--client-id", "10000000000042").exit_code == 0
    assert Store(db).platform_named("school").client_id == "10000000000042"
    assert run(db, "config", "canvas", "--platform", "school").exit_code == 2  # no --url
    assert run(db, "config", "canvas", "--url", "https://cards.example.edu").exit_code == 2  # no --platform
    insecure = run(db, "config", "canvas", "--platform", "school", "--url", "http://cards.example.edu")
    assert insecure.exit_code == 1  # not https


def test_deployments_policy_is_auto_unless_listed(db):
    add_moodle(db)
    assert Store(db).platform_named("moodle").deployments_policy == "auto"
    assert "new ones accepted on their first launch" in run(db, "platform", "list").output
    assert run(db, "platform", "update", "moodle", "--deployments", "listed").exit_code == 0
    assert Store(db).platform_named("moodle").deployments_policy == "listed"
    assert "only these" in run(db, "platform", "list").output


def test_register_url_is_a_one_time_invitation(db):
    printed = run(db, "register-url", "--url", "https://cards.example.edu")
    assert printed.exit_code == 0
    url = printed.stdout.strip()
    assert url.startswith("https://cards.example.edu/lti/register/")
    assert Store(db).invite_valid(url.rsplit("/", 1)[1])


def test_grades_with_nothing_waiting(db):
    listed = run(db, "grades")
    assert listed.exit_code == 0 and "0 grade(s) not delivered" in listed.output


def test_serve_refuses_bad_input_before_starting(tmp_path, db):
    missing = CliRunner().invoke(main, ["serve", "--deck", str(tmp_path / "none.yaml"), "--db", str(db)])
    assert missing.exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: d\ntitle: D\ncards: [{id: c}]\n")
    refused = CliRunner().invoke(main, ["serve", "--deck", str(bad), "--db", str(db)])
    assert refused.exit_code == 1 and "error:" in refused.output
    public = CliRunner().invoke(main, ["serve", "--deck", str(bad), "--host", "0.0.0.0"])
    assert public.exit_code == 1 and "https" in public.output
