"""The sign-on pages beside the console: never linking to it, never given its cookie."""

from __future__ import annotations

from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    CaptureHandler,
    SignOnWorkspace,
    invite_one,
)


def test_the_sign_on_page_never_links_to_the_console_nor_sets_its_cookie(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = invite_one(signon_workspace, invoke, mailbox, ORGANISATIONS[0][0])
    page = web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    assert page.status_code == 200
    assert ORGANISATIONS[0][0] in page.text  # positive control: the real page
    assert "/staff" not in page.text
    assert not [c for c in page.headers.getlist("Set-Cookie") if c.startswith("cl_staff=")]
    console = web_client.get("/staff/login")  # positive control: the console is served
    assert console.status_code == 200
    assert [c for c in console.headers.getlist("Set-Cookie") if c.startswith("cl_staff=")]


def test_the_console_adds_no_header_to_the_sign_on_responses(home, database) -> None:
    from coalitionletter.settings import load_settings
    from coalitionletter.web.app import create_app

    def headers(enabled: str) -> dict[str, list[tuple[str, str]]]:
        (home / "coalitionletter.toml").write_text(f"[console]\nenabled = {enabled}\n")
        client = create_app(load_settings(home, db=database.url, environ={}), database)
        client = client.test_client()
        found = {}
        for path in ("/s/" + "a" * 43, "/healthz", "/static/web.css", "/"):
            with client.get(path, headers={"User-Agent": BROWSER_AGENT}) as response:
                found[path] = sorted((k, v) for k, v in response.headers.items() if k != "Date")
        assert client.get("/staff/login").status_code == (200 if enabled == "true" else 404)
        return found

    assert headers("true") == headers("false")
