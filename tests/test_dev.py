"""`python3 dev.py run [ADDRESS]`: BASE_URL follows the address it serves (issue 10), so the
SP's URLs and the test IdP point where the server listens, unless BASE_URL is set."""
import pytest

import dev


@pytest.mark.parametrize(("address", "base_url"), [
    ("127.0.0.1:9000", "http://localhost:9000"),
    ("9000", "http://localhost:9000"),
    ("0.0.0.0:8001", "http://localhost:8001"),
    ("[::1]:9000", "http://localhost:9000"),
    ("gatehouse.test:8080", "http://gatehouse.test:8080"),
    ("192.0.2.7:9000", "http://192.0.2.7:9000"),
    ("[2001:db8::1]:9000", "http://[2001:db8::1]:9000"),
])
def test_base_url_follows_the_address(address, base_url):
    assert dev.base_url_for(address) == base_url


def _run(monkeypatch, args):
    calls = []
    monkeypatch.setattr(dev, "setup", lambda: None)
    monkeypatch.setattr(dev, "sh", lambda *a, env=None, **kw: calls.append((a, env)) or 0)
    assert dev.run(args) == 0
    return calls


def test_run_serves_where_base_url_points(monkeypatch):
    monkeypatch.delenv("BASE_URL", raising=False)
    calls = _run(monkeypatch, ["127.0.0.1:9000"])
    assert [a[2:] for a, _ in calls] == [("migrate", "--no-input"), ("demo",), ("runserver", "127.0.0.1:9000")]
    assert {env["BASE_URL"] for _, env in calls} == {"http://localhost:9000"}
    assert {env["DEBUG"] for _, env in calls} == {"true"}
    assert {env["BASE_URL"] for _, env in _run(monkeypatch, [])} == {"http://localhost:8000"}


def test_run_keeps_a_base_url_set_in_the_environment(monkeypatch):
    monkeypatch.setenv("BASE_URL", "https://gatehouse.example.com")
    assert {env["BASE_URL"] for _, env in _run(monkeypatch, ["127.0.0.1:9000"])} == {"https://gatehouse.example.com"}
