"""The outbound guard against listeners on 127.0.0.1 that stand in for internal services and hostile servers."""

from __future__ import annotations

import socket
import time

import pytest

from lms_export.lti import outbound
from lms_export.lti.outbound import Forbidden, Outbound, OutboundError, OutboundPolicy
from lti.listeners import Listener, answer_with, drip, flood

LOCAL = OutboundPolicy(deadline=2.0, insecure_local=True)


@pytest.fixture
def listeners():
    started: list[Listener] = []

    def start(answer) -> Listener:
        started.append(Listener(answer))
        return started[-1]

    yield start
    for listener in started:
        listener.stop()


def test_plain_http_is_refused_without_insecure_local(listeners):
    service = listeners(answer_with("200 OK", body=b"{}"))
    with pytest.raises(Forbidden, match="only https"):
        Outbound().get(service.url + "/")
    assert service.accepted == 0


def test_loopback_is_refused_over_https_without_insecure_local(listeners):
    service = listeners(answer_with("200 OK", body=b"{}"))
    with pytest.raises(Forbidden, match="not a public address"):
        Outbound().get(f"https://127.0.0.1:{service.port}/")
    with pytest.raises(Forbidden, match="not a public address"):
        Outbound().get(f"https://localhost:{service.port}/")
    assert service.accepted == 0


@pytest.mark.parametrize(
    "address",
    [
        *("10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "0.0.0.0"),
        *("240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"),
    ],
)
def test_private_link_local_multicast_and_reserved_addresses_are_refused(address):
    with pytest.raises(Forbidden):
        OutboundPolicy().check_address(address, "platform.example")


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "192.168.1.1"])
def test_insecure_local_still_refuses_private_addresses(address):
    with pytest.raises(Forbidden):
        OutboundPolicy(insecure_local=True).check_address(address, "platform.example")


def test_public_addresses_pass():
    OutboundPolicy().check_address("93.184.216.34", "example.com")
    OutboundPolicy().check_address("2606:2800:220:1:248:1893:25c8:1946", "example.com")


def test_insecure_local_allows_loopback_http(listeners):
    service = listeners(answer_with("200 OK", {"Content-Type": "application/json"}, b'{"ok": true}'))
    assert Outbound(LOCAL).get(service.url + "/").json() == {"ok": True}


def test_a_name_is_checked_on_the_address_it_is_connected_to(listeners, monkeypatch):
    """DNS rebinding: the name answers a public address once, then 127.0.0.1; no request reaches the listener."""
    service = listeners(answer_with("200 OK", body=b"{}"))
    answers = iter(["93.184.216.34"] + ["127.0.0.1"] * 10)

    def rebinding(host, port, *args, **kwargs):
        if host != "platform.example":
            return socket.getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(outbound, "resolve", rebinding)
    for _ in range(3):
        with pytest.raises((Forbidden, OutboundError, OSError)):
            Outbound(OutboundPolicy(deadline=1.0)).get(f"https://platform.example:{service.port}/")
    assert service.accepted == 0


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch):
    def mixed(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in ("93.184.216.34", "10.1.2.3")]

    monkeypatch.setattr(outbound, "resolve", mixed)
    with pytest.raises(Forbidden, match=r"10\.1\.2\.3"):
        Outbound().get("https://platform.example/")


def test_redirects_are_never_followed(listeners):
    internal = listeners(answer_with("200 OK", body=b"secret"))
    redirecting = listeners(answer_with("302 Found", {"Location": internal.url + "/admin"}))
    response = Outbound(LOCAL).get(redirecting.url + "/")
    assert response.status_code == 302
    assert internal.accepted == 0


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_dripping_answer_is_cut_at_the_deadline(listeners, headers_too):
    slow = listeners(drip(0.2, headers_too=headers_too))
    started = time.monotonic()
    with pytest.raises(OutboundError, match="deadline"):
        Outbound(OutboundPolicy(deadline=1.0, insecure_local=True)).get(slow.url + "/")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_an_answer_past_the_byte_cap_is_refused(listeners, chunked):
    huge = listeners(flood(8 * 1024 * 1024, chunked=chunked))
    policy = OutboundPolicy(deadline=5.0, max_bytes=256 * 1024, insecure_local=True)
    with pytest.raises(OutboundError, match="larger than"):
        Outbound(policy).get(huge.url + "/")


def test_errors_never_show_a_query_string(listeners):
    with pytest.raises(Forbidden) as refused:
        Outbound().get("http://127.0.0.1:9/register?registration_token=s3cret")
    assert "s3cret" not in str(refused.value)
