"""The trail covers the state: a row changed behind the program's back fails verify, build, export.

Each tampering below is what someone with SQL access to the database could do
without the program: set a state, a listing or an agreed text; delete entries
and rewind the chain's head; add a row. `audit --verify` must name it, and
`build` and `export` must refuse naming the organisation, writing nothing.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import delete, func, insert, select, update

from coalitionletter import events
from coalitionletter.models import Event, EventChain, Invitation
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm_form,
    invite_one,
)

CHAIN = events.campaign_chain(SLUG)
GOVERNMENTS_ONLY = ORGANISATIONS[0][0]  # confirmed, to be named to governments only
DECLINED = ORGANISATIONS[1][0]
CONFIRMED = ORGANISATIONS[2][0]  # confirmed, named publicly
NOT_INVITED = ORGANISATIONS[4][0]
SIGNER = ("--signer", "Li Wei", "--title", "Chair")


@pytest.fixture
def history(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> SignOnWorkspace:
    """Invitations sent; one confirmation for governments only, one public, one decline."""
    ids = signon_workspace.organisations
    for name in (GOVERNMENTS_ONLY, DECLINED, CONFIRMED):
        result = invoke("invite", SLUG, "--org", str(ids[name]))
        assert result.exit_code == 0, result.output
    answers = [
        (
            GOVERNMENTS_ONLY,
            "--confirm",
            "--signer",
            "Aynur Tursun",
            "--title",
            "Director",
            "--listing",
            "governments_only",
        ),
        (CONFIRMED, "--confirm", "--signer", "Gulnar Abdulla", "--title", "Chair"),
        (DECLINED, "--decline", "--reason", "Not this time"),
    ]
    for name, *options in answers:
        result = invoke("sign", SLUG, str(ids[name]), *options)
        assert result.exit_code == 0, result.output
    return signon_workspace


def _set(workspace: SignOnWorkspace, name: str, **values: object) -> None:
    """Change an invitation row by SQL, as someone with the database file could."""
    with workspace.database.writing() as session:
        changed = session.execute(
            update(Invitation)
            .where(Invitation.organisation_id == workspace.organisations[name])
            .values(**values)
        ).rowcount
    assert changed == 1


def _remove_entry(workspace: SignOnWorkspace, seq: int, *, rewind: bool) -> None:
    """Delete one entry of the campaign's chain by SQL, and rewind its head if asked."""
    with workspace.database.writing() as session:
        previous = session.scalar(
            select(Event.hash)
            .where(Event.chain == CHAIN, Event.seq < seq)
            .order_by(Event.seq.desc())
            .limit(1)
        )
        session.execute(delete(Event).where(Event.chain == CHAIN, Event.seq == seq))
        if rewind:
            session.execute(
                update(EventChain)
                .where(EventChain.name == CHAIN)
                .values(length=seq - 1, head_hash=previous)
            )


def _seq_of(workspace: SignOnWorkspace, kind: str, name: str) -> int:
    with workspace.database.reading() as session:
        return session.scalar(
            select(Event.seq).where(
                Event.chain == CHAIN,
                Event.kind == kind,
                Event.organisation_id == workspace.organisations[name],
            )
        )


def _last_seq(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.max(Event.seq)).where(Event.chain == CHAIN))


def _anchor(invoke) -> str:
    result = invoke("audit", SLUG, "--verify")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("Anchor: "))
    return line.removeprefix("Anchor: ")


def _out_files(workspace: SignOnWorkspace) -> list[Path]:
    out = workspace.home / "letters" / SLUG / "out"
    return sorted(out.iterdir()) if out.exists() else []


def _assert_refused(workspace: SignOnWorkspace, invoke, name: str, tmp_path: Path) -> None:
    """audit --verify fails, and build and export refuse, each naming the organisation."""
    verified = invoke("audit", SLUG, "--verify")
    assert verified.exit_code != 0
    assert f"Disagrees with the trail: {name}" in verified.output
    assert "has been altered" in verified.output
    assert "Anchor:" not in verified.output
    built = invoke("build", SLUG, "--format", "html", "--quiet")
    assert built.exit_code != 0
    assert f"The sign-on records of {SLUG} disagree with their trail" in built.output
    assert name in built.output
    assert _out_files(workspace) == []
    target = tmp_path / "list.csv"
    for extra in ([], ["--delivered"]):
        exported = invoke("export", SLUG, "--output", str(target), *extra)
        assert exported.exit_code != 0
        assert f"The sign-on records of {SLUG} disagree with their trail" in exported.output
        assert name in exported.output
        assert not target.exists()


def test_an_untouched_campaign_verifies_builds_and_exports(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    verified = invoke("audit", SLUG, "--verify")
    assert verified.exit_code == 0, verified.output
    assert "every invitation matches its trail" in verified.output
    assert "Anchor: " in verified.output
    built = invoke("build", SLUG, "--format", "html", "--quiet")
    assert built.exit_code == 0, built.output
    assert _out_files(history)
    assert f"The trail of {SLUG} verified; its anchor: {_anchor(invoke)}" in built.output
    target = tmp_path / "list.csv"
    exported = invoke("export", SLUG, "--output", str(target), "--delivered")
    assert exported.exit_code == 0, exported.output
    listed = target.read_text(encoding="utf-8")
    assert GOVERNMENTS_ONLY in listed and CONFIRMED in listed


def test_a_state_set_to_confirmed_by_sql_fails_verify_build_and_export(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    _set(history, DECLINED, state="confirmed", text_hash=history.definition.text_hash)
    _assert_refused(history, invoke, DECLINED, tmp_path)
    output = invoke("audit", SLUG, "--verify").output
    assert "state confirmed (trail: declined)" in output


def test_a_listing_made_public_by_sql_fails_verify_build_and_export(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    _set(history, GOVERNMENTS_ONLY, listing="public")
    _assert_refused(history, invoke, GOVERNMENTS_ONLY, tmp_path)
    assert "listing public (trail: governments_only)" in invoke("audit", SLUG, "--verify").output


def test_an_agreed_text_changed_by_sql_fails_verify_build_and_export(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    _set(history, CONFIRMED, text_hash="f" * 64)
    _assert_refused(history, invoke, CONFIRMED, tmp_path)
    assert "agreed text ffffffffffff" in invoke("audit", SLUG, "--verify").output


def test_an_invitation_added_by_sql_fails_verify_build_and_export(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    with history.database.writing() as session:
        campaign_id = session.scalar(select(Invitation.campaign_id).limit(1))
        session.execute(
            insert(Invitation).values(
                campaign_id=campaign_id,
                organisation_id=history.organisations[NOT_INVITED],
                state="confirmed",
                listing="public",
                text_hash=history.definition.text_hash,
            )
        )
    _assert_refused(history, invoke, NOT_INVITED, tmp_path)
    assert "no entry of the trail made or changed it" in invoke("audit", SLUG, "--verify").output


def test_a_confirmation_moved_to_another_organisation_by_sql_is_caught(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    _set(history, CONFIRMED, organisation_id=history.organisations[NOT_INVITED])
    _assert_refused(history, invoke, NOT_INVITED, tmp_path)
    output = invoke("audit", SLUG, "--verify").output
    assert f"organisation #{history.organisations[NOT_INVITED]} (trail: #" in output


def test_an_invitation_deleted_by_sql_is_caught(history: SignOnWorkspace, invoke) -> None:
    with history.database.writing() as session:
        session.execute(
            delete(Invitation).where(Invitation.organisation_id == history.organisations[DECLINED])
        )
    result = invoke("audit", SLUG, "--verify")
    assert result.exit_code != 0
    assert f"Disagrees with the trail: {DECLINED}" in result.output
    assert "says it is declined, but its invitation is missing from the database" in result.output


def test_deleting_the_last_entry_and_rewinding_the_head_fails_verify_build_and_export(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    last = _last_seq(history)
    assert last == _seq_of(history, "declined", DECLINED)
    _remove_entry(history, last, rewind=True)
    with history.database.reading() as session:
        assert events.verify(session, CHAIN) == []  # the chain alone adds up: the row does not
    _assert_refused(history, invoke, DECLINED, tmp_path)
    assert "state declined (trail: invited)" in invoke("audit", SLUG, "--verify").output


def test_deleting_an_entry_in_the_middle_fails_verify_build_and_export(
    history: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    seq = _seq_of(history, "confirmed", GOVERNMENTS_ONLY)
    assert seq < _last_seq(history)
    _remove_entry(history, seq, rewind=False)
    _assert_refused(history, invoke, GOVERNMENTS_ONLY, tmp_path)
    output = invoke("audit", SLUG, "--verify").output
    assert f"Broken at entry {seq + 1}: entry {seq} is missing" in output


def test_a_change_missing_between_two_entries_is_named_by_organisation(
    history: SignOnWorkspace, invoke, mailbox: CaptureHandler, tmp_path: Path
) -> None:
    ids = history.organisations
    result = invoke("sign", SLUG, str(ids[CONFIRMED]), "--withdraw")
    assert result.exit_code == 0, result.output
    result = invoke("sign", SLUG, str(ids[CONFIRMED]), "--confirm", *SIGNER)
    assert result.exit_code == 0, result.output
    _remove_entry(history, _seq_of(history, "withdrawn", CONFIRMED), rewind=False)
    output = invoke("audit", SLUG, "--verify").output
    assert f"Disagrees with the trail: {CONFIRMED}" in output
    assert "is missing from the trail" in output


def test_a_row_changed_by_sql_stays_caught_after_a_later_legitimate_change(
    history: SignOnWorkspace, invoke, mailbox: CaptureHandler, tmp_path: Path
) -> None:
    _set(history, DECLINED, state="confirmed", text_hash=history.definition.text_hash)
    result = invoke("sign", SLUG, str(history.organisations[DECLINED]), "--withdraw")
    assert result.exit_code == 0, result.output
    _assert_refused(history, invoke, DECLINED, tmp_path)
    output = invoke("audit", SLUG, "--verify").output
    assert "found state confirmed (trail: declined)" in output
    assert "changed behind the program's back" in output


def test_a_whole_rewind_passes_inside_the_database_but_fails_against_the_kept_anchor(
    history: SignOnWorkspace, invoke
) -> None:
    anchor = _anchor(invoke)
    last = _last_seq(history)
    _remove_entry(history, last, rewind=True)
    _set(history, DECLINED, state="invited", version=0, decline_reason=None, decided_at=None)
    assert invoke("audit", SLUG, "--verify").exit_code == 0  # consistent: nothing inside can tell
    checked = invoke("audit", SLUG, "--verify", "--expect", anchor)
    assert checked.exit_code != 0
    assert f"Broken at entry {last}: the trail ends at entry {last - 1}" in checked.output
    assert "rewound" in checked.output


def test_a_kept_anchor_still_holds_as_the_trail_grows(
    history: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    anchor = _anchor(invoke)
    result = invoke("sign", SLUG, str(history.organisations[DECLINED]), "--confirm", *SIGNER)
    assert result.exit_code == 0, result.output
    checked = invoke("audit", SLUG, "--verify", "--expect", anchor[:20])
    assert checked.exit_code == 0, checked.output
    assert f"still holds the anchor {anchor[:20]}" in checked.output
    assert _anchor(invoke) != anchor


def test_an_anchor_for_a_rewritten_entry_fails(history: SignOnWorkspace, invoke) -> None:
    seq, digest = _anchor(invoke).split(":")
    other = ("0" if digest[0] != "0" else "1") + digest[1:]
    checked = invoke("audit", SLUG, "--verify", "--expect", f"{seq}:{other}")
    assert checked.exit_code != 0
    assert f"Broken at entry {seq}: is not the entry your anchor names" in checked.output


def test_a_malformed_anchor_is_refused_with_the_form_it_takes(
    history: SignOnWorkspace, invoke
) -> None:
    checked = invoke("audit", SLUG, "--verify", "--expect", "12:abc")
    assert checked.exit_code != 0
    assert "'12:abc' is not a trail anchor" in checked.output
    assert "Verified" not in checked.output


def test_audit_of_a_campaign_that_does_not_exist_fails_clearly(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    for options in ([], ["--verify"]):
        result = invoke("audit", "nope", *options)
        assert result.exit_code != 0
        assert f"There is no campaign nope in the database (campaigns there: {SLUG})" in (
            result.output
        )
        assert "has no entries yet" not in result.output
    assert invoke("audit", SLUG).exit_code == 0  # the campaign that exists is found


def test_confirmations_through_the_web_page_are_bound_to_the_trail(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, web_client
) -> None:
    token = invite_one(signon_workspace, invoke, mailbox, CONFIRMED)
    body = urlencode(confirm_form(web_client, token, listing="governments_only"))
    headers = {"User-Agent": BROWSER_AGENT, "Content-Type": "application/x-www-form-urlencoded"}
    response = web_client.post(f"/s/{token}", data=body, headers=headers)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert invoke("audit", SLUG, "--verify").exit_code == 0
    _set(signon_workspace, CONFIRMED, listing="public")
    result = invoke("audit", SLUG, "--verify")
    assert result.exit_code != 0
    assert "listing public (trail: governments_only)" in result.output


def test_an_organisation_merged_or_removed_through_the_program_still_verifies(
    history: SignOnWorkspace, invoke
) -> None:
    ids = history.organisations
    merged = invoke("org", "merge", str(ids[NOT_INVITED]), str(ids[CONFIRMED]), "--yes")
    assert merged.exit_code == 0, merged.output
    removed = invoke("org", "remove", str(ids[DECLINED]), "--yes")
    assert removed.exit_code == 0, removed.output
    kinds = [line.split()[4] for line in invoke("audit", SLUG).output.splitlines()]
    assert "invitation_moved" in kinds and "invitation_removed" in kinds
    result = invoke("audit", SLUG, "--verify")
    assert result.exit_code == 0, result.output
    _set(history, NOT_INVITED, state="withdrawn")  # the moved invitation is still bound
    assert invoke("audit", SLUG, "--verify").exit_code != 0


def test_the_seed_signatories_init_loads_verify_and_build(founding_home: Path, invoke) -> None:
    assert invoke("init").exit_code == 0
    result = invoke("audit", SLUG, "--verify")
    assert result.exit_code == 0, result.output
    kinds = [line.split()[4] for line in result.output.splitlines()[:-3]]
    assert kinds and set(kinds) == {"confirmed"}
    built = invoke("build", SLUG, "--format", "html", "--quiet")
    assert built.exit_code == 0, built.output
