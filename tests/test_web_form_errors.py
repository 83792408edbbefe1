"""A form sent back with problems says so at the top, and each field points to its message."""

from __future__ import annotations

from bs4 import BeautifulSoup

from fixtures_signon import ORGANISATIONS, CaptureHandler, SignOnWorkspace, confirm_form, invite_one

NAME = ORGANISATIONS[0][0]


def _refused_page(signon_workspace, invoke, mailbox, web_client, **fields) -> BeautifulSoup:
    token = invite_one(signon_workspace, invoke, mailbox, NAME)
    response = web_client.post(f"/s/{token}", data=confirm_form(web_client, token, **fields))
    assert response.status_code == 400, response.text
    return BeautifulSoup(response.text, "html.parser")


def test_a_refused_form_lists_every_problem_at_the_top_linked_to_its_field(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, web_client
) -> None:
    page = _refused_page(
        signon_workspace, invoke, mailbox, web_client, signer_name="", authorised=None
    )
    summary = page.find(id="errors")
    assert summary is not None and summary.get("role") == "alert"
    targets = [a["href"] for a in summary.find_all("a")]
    assert targets == ["#signer_name", "#authorised"]
    for target in targets:
        assert page.find(id=target[1:]) is not None  # each link reaches its field


def test_each_field_with_a_problem_is_marked_invalid_and_described_by_its_message(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, web_client
) -> None:
    page = _refused_page(signon_workspace, invoke, mailbox, web_client, signer_name="")
    field = page.find(id="signer_name")
    assert field.get("aria-invalid") == "true"
    message = page.find(id=field["aria-describedby"])
    assert message is not None and "class" in message.attrs and "error" in message["class"]
    assert page.find(id="signer_title").get("aria-invalid") is None  # a field without one


def test_a_page_without_problems_has_no_summary(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, web_client
) -> None:
    token = invite_one(signon_workspace, invoke, mailbox, NAME)
    page = BeautifulSoup(web_client.get(f"/s/{token}").text, "html.parser")
    assert page.find(id="signer_name") is not None  # positive control: the form is there
    assert page.find(id="errors") is None


def test_the_forms_open_the_answer_scrolled_to_the_summary(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, web_client
) -> None:
    token = invite_one(signon_workspace, invoke, mailbox, NAME)
    page = BeautifulSoup(web_client.get(f"/s/{token}").text, "html.parser")
    forms = page.find_all("form")
    assert forms and all(form["action"] == "#errors" for form in forms)


def test_the_form_to_confirm_a_changed_text_is_filled_with_the_earlier_signer(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    form = confirm_form(web_client, token, signer_name="Aynur Tursun", signer_title="Director")
    assert web_client.post(f"/s/{token}", data=form).status_code == 303
    body = signon_workspace.home / "letters" / "ilp-magnitsky-2020" / "body.md"
    body.write_text(body.read_text("utf-8") + "\nA paragraph added later.\n", "utf-8")

    page = BeautifulSoup(web_client.get(f"/s/{token}").text, "html.parser")

    assert "The text has changed since you confirmed" in page.get_text()
    assert page.find(id="signer_name")["value"] == "Aynur Tursun"
    assert page.find(id="signer_title")["value"] == "Director"
