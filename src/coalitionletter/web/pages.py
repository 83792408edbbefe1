"""The sign-on pages' handlers: an organisation opens its link, reads the letter, and answers.

GET and HEAD only show; a decision is a POST from a human pressing a button on
a form carrying a CSRF token. Nothing here keeps state in the process that
others need (the CSRF key lives in the settings or the database), so several
workers can serve at once. The raw token never reaches a log line or an error page.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from coalitionletter import catalogs, prepared
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition, LetterWords
from coalitionletter.catalogs import N_, Words
from coalitionletter.db import Database
from coalitionletter.errors import CampaignError, NameProposalError, SignOnError
from coalitionletter.models import (
    AppSecret,
    Campaign,
    Contact,
    Invitation,
    Listing,
    Organisation,
    utcnow,
)
from coalitionletter.settings import Settings
from coalitionletter.signon import consent, corrections, links, tokens
from coalitionletter.signon import states as signon
from coalitionletter.web import language as languages
from coalitionletter.web.forms import (
    ACTIONS,
    FORM_VALUES,
    WITHDRAW_CONFIRMED,
    FormErrors,
    decision_fields,
    posted_form,
    proposal_words,
)
from coalitionletter.web.letters import Letter, Letters
from coalitionletter.web.writers import Writers

log = logging.getLogger(__name__)


# A visit without our cookie this soon after the email left is most likely a mail
# scanner following the link, not a person: it is not counted as a view.
SCANNER_QUIET_SECONDS = 120
VISIT_COOKIE = "cl_visit"
SCANNER_AGENTS = (
    "safelinks", "safe links", "mimecast", "proofpoint", "urldefense", "barracuda",
    "messagelabs", "symantec", "trendmicro", "fortiguard", "sophos", "ironport", "cisco",
    "bot", "crawler", "spider", "preview", "scanner", "headless", "python-requests",
    "python-urllib", "httpx", "curl", "wget", "go-http-client", "java/", "okhttp",
    "libwww", "axios", "node-fetch",
)  # fmt: skip


def kept_secret(database: Database, name: str) -> str:
    """A random key made once and kept in the database, so every worker shares it."""
    with database.writing() as session:
        row = session.get(AppSecret, name)
        if row is None:
            try:
                with session.begin_nested():
                    row = AppSecret(name=name, value=secrets.token_hex(32))
                    session.add(row)
            except IntegrityError:
                row = session.get_one(AppSecret, name, populate_existing=True)
        return row.value


def shared_secret(settings: Settings, database: Database) -> bytes:
    """The CSRF signing key: from the settings, else made once and kept in the database."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    return kept_secret(database, "csrf").encode("utf-8")


def looks_like_scanner(user_agent: str) -> bool:
    """True for the user agents of link scanners, previewers and scripts."""
    agent = user_agent.lower()
    return not agent or any(marker in agent for marker in SCANNER_AGENTS)


def _driver_message(exc: Exception) -> str:
    """The database driver's message alone: SQLAlchemy's adds the statement's parameters."""
    if isinstance(exc, DBAPIError):
        return str(exc.orig)
    if isinstance(exc, SQLAlchemyError):
        return type(exc).__name__
    return str(exc)


@dataclass
class _Page:
    """Everything the sign-on page shows."""

    campaign: Campaign
    letter: Letter
    invitation: Invitation
    organisation: Organisation
    access: links.LinkAccess
    token_hash: str
    stale: bool = False
    language: str = ""  # the language version shown ("": the campaign's own)
    contact_languages: tuple[str | None, ...] = ()  # the organisation's contacts', in order

    @property
    def definition(self) -> CampaignDefinition:
        """The campaign's definition from its files."""
        return self.letter.definition

    @property
    def version(self) -> consent.LetterVersion:
        """The letter's words now, in the language shown."""
        return self.letter.in_language(self.language)[0]

    @property
    def body(self) -> Markup:
        """The letter's body as the page shows it, in the language shown."""
        return self.letter.in_language(self.language)[1]


class SignOnApp:
    """The request handlers, bound to one settings object and database."""

    def __init__(self, settings: Settings, database: Database) -> None:
        from coalitionletter.render import make_environment

        self.settings = settings
        self.database = database
        self.secret = shared_secret(settings, database)
        self.environment = make_environment(settings.templates_dir)
        self.folders = catalogs.catalog_folders(settings.home)
        self.secure_cookie = settings.base_url.startswith("https://")
        self.letters = Letters(settings)
        # Published words by (campaign id, hashes): a published version never changes.
        self.published: dict[tuple[int, str, str | None], tuple[LetterWords, ...]] = {}
        # Texts known to be kept in letter_texts, so a confirmation need not look again.
        self.kept_texts: set[tuple[int, str]] = set()
        self.writers = Writers(database)
        self.writing = self.writers.writing
        self.answering = self.writers.answering

    # --- helpers -----------------------------------------------------------------

    def environment_for(self, definition: CampaignDefinition) -> Environment:
        """The campaign's templates first, then the workspace's and the defaults."""
        from coalitionletter.render import make_environment

        if (definition.directory / "templates").is_dir():
            return make_environment(self.settings.templates_dir, definition.directory)
        return self.environment

    def html(
        self, template: str, status: int = 200, language: str | None = None, **context: Any
    ) -> Response:
        """Render a web template through the shared Jinja setup, in a language.

        Without one, the page names nobody and follows the address's `?lang=`, else
        the browser's languages.
        """
        environment = context.pop("environment", None) or self.environment
        language = language or languages.visitor_language(self.folders)
        body = environment.get_template(f"web/{template}").render(
            language=language,
            language_links=languages.switch_links(self.folders, language),
            **context,
        )
        return Response(body, status=status, mimetype="text/html")

    def language_of(
        self, definition: CampaignDefinition | None, contacts: Iterable[str | None]
    ) -> str:
        """A link's page language: the address's choice, its contacts', else the campaign's."""
        default = definition.language if definition is not None else catalogs.SOURCE_LANGUAGE
        return languages.page_language(self.folders, contacts, default)

    def neutral(self, status: int) -> Response:
        """The one page for a bad, unknown, revoked or expired link; it names nobody."""
        return self.html("link.html", status=status, gone=status == 410)

    def problem(self, status: int, message: Words | str) -> Response:
        """A plain error page (bad form, too large, server trouble), in the visitor's language."""
        return self.html("problem.html", status=status, status_code=status, message=message)

    @staticmethod
    def contact_languages(session: Any, organisation_id: int) -> tuple[str | None, ...]:
        """The languages of an organisation's contacts, in the registry's order."""
        query = (
            select(Contact.language)
            .where(Contact.organisation_id == organisation_id)
            .order_by(Contact.id)
        )
        return tuple(session.scalars(query))

    def chosen_query(self) -> str:
        """`?lang=..&version=..` as the visitor chose them in the address, else nothing.

        A form posts to it and the answer redirects to it, so both choices stay.
        """
        if not request.query_string:
            return ""  # most answers: nothing chosen, and nothing to parse
        chosen = languages.requested_language(self.folders)
        parts = (languages.query_for(chosen) if chosen else "", _version_query())
        query = "&".join(part for part in parts if part)
        return f"?{query}" if query else ""

    def answer_location(self, token: str) -> str:
        """Where a decision redirects: the link's page, in the language the visitor chose."""
        return f"/s/{token}{self.chosen_query()}"

    def letter(self, session: Any, campaign: Campaign | signon.CampaignRef) -> Letter:
        """The letter as organisations see it: its files, and its published words if any."""
        words = None
        if campaign.published_hash is not None:
            key = (campaign.id, campaign.published_hash, campaign.published_versions)
            if key not in self.published:
                self.published[key] = campaigns.published_text(session, *key)
            words = self.published[key]
        return self.letters.current(campaign.slug, words)

    def csrf(self, token_hash: str) -> str:
        """The form token: an HMAC binding the form to this one link (by its token's hash).

        It needs nothing from the database, so a forged or stale form is turned
        away before any database work.
        """
        message = f"csrf|{token_hash}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def load(self, session: Any, raw: str, requested: str | None = None) -> _Page | Response:
        """The page's data for a link, or the neutral page.

        `requested`: the language version asked for (`?version=fr`), if any.
        """
        access = links.find_by_token(session, raw)
        if access is None:
            return self.neutral(404)
        campaign = access.campaign or session.get(Campaign, access.campaign_id)
        invitation = access.invitation or session.get(Invitation, access.invitation_id)
        organisation = access.organisation or session.get(Organisation, access.organisation_id)
        now = utcnow()
        if signon.closed_by_staff(campaign, now):
            return self.closed(session, campaign, invitation, organisation)
        try:
            letter = self.letter(session, campaign)
        except CampaignError:
            if access.expired:
                return self.closed(session, campaign, invitation, organisation)
            log.exception("The letter of campaign %s cannot be read", campaign.slug)
            return self.problem(503, N_("The letter cannot be shown right now. Please try later."))
        deadline = signon.effective_deadline(letter.definition.deadline, campaign.extended_until)
        if deadline is not None and now >= deadline:
            # The files' deadline is the one in force, whether or not a command synced it.
            return self.closed(session, campaign, invitation, organisation, letter)
        stale = self._stale(session, invitation, letter)
        spoken = self.contact_languages(session, organisation.id)
        return _Page(
            campaign,
            letter,
            invitation,
            organisation,
            access,
            tokens.token_hash(raw),
            stale,
            shown_version(session, letter, invitation, spoken, requested),
            spoken,
        )

    @staticmethod
    def _stale(session: Any, invitation: Invitation, letter: Letter | None) -> bool:
        """True for a confirmation of words other than the current ones (whitespace aside)."""
        if invitation.state != signon.CONFIRMED or letter is None:
            return False
        if invitation.text_hash in letter.definition.current_hashes:
            return False
        return invitation.text_hash not in consent.current_hashes(session, letter.definition)

    def closed(
        self,
        session: Any,
        campaign: Campaign,
        invitation: Invitation,
        organisation: Organisation,
        letter: Letter | None = None,
    ) -> Response:
        """The page of a link whose sign-on has closed: when, and what the organisation answered.

        Only the link's holder sees it, as it saw the open page; it shows no form.
        """
        if letter is None:
            try:
                letter = self.letter(session, campaign)
            except CampaignError:
                letter = None  # the answer is still shown; only its text's currency is unknown
        now = utcnow()
        deadline = campaign.deadline
        if letter is not None:
            deadline = signon.effective_deadline(
                letter.definition.deadline, campaign.extended_until
            )
        ends = [t for t in (campaign.closed_at, deadline) if t and t <= now]
        stale = self._stale(session, invitation, letter)
        return self.html(
            "closed.html",
            status=410,
            language=self.language_of(
                letter.definition if letter is not None else None,
                self.contact_languages(session, organisation.id),
            ),
            organisation=organisation.name,
            listed_as=invitation.display_name or organisation.name,
            invitation=invitation,
            state=invitation.state,
            stale=stale,
            closed_on=min(ends) if ends else None,
            # Dates in the campaign's zone, named (the `moment` and `day` filters read it).
            time_zone=letter.definition.time_zone if letter is not None else None,
        )

    def render_page(
        self,
        page: _Page,
        *,
        status: int = 200,
        notice: Words | None = None,
        errors: dict[str, Words | str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        """The letter, the organisation's line, and the form or status for its state."""
        invitation = page.invitation
        version = page.version
        listed_as = invitation.display_name or page.organisation.name
        context: dict[str, Any] = {
            "language": self.language_of(page.definition, page.contact_languages),
            "letter_language": version.language or page.definition.language,
            "form_query": self.chosen_query(),
            "environment": self.environment_for(page.definition),
            "title": version.title,
            "version": version,
            "body": page.body,
            "versions": version_links(page.definition, version.language),
            "organisation": page.organisation.name,
            "listed_as": listed_as,
            "proposed_name": invitation.proposed_name,
            "invitation": invitation,
            "state": invitation.state,
            "stale": page.stale,
            "governments_only": invitation.listing == Listing.GOVERNMENTS_ONLY.value,
            "signer_public": invitation.signer_public,
            "deadline": signon.effective_deadline(
                page.definition.deadline, page.campaign.extended_until
            ),
            # Dates in the campaign's zone, named (the `moment` and `day` filters read it).
            "time_zone": page.definition.time_zone,
            "csrf": self.csrf(page.token_hash),
            "notice": notice,
            "errors": errors or {},
            "values": values
            or {
                "display_name": invitation.proposed_name or listed_as,
                "listing": invitation.listing,
                # Whoever signed before signs again when the text changed: save retyping.
                "signer_name": invitation.signer_name or "",
                "signer_title": invitation.signer_title or "",
                # Shown as it stands on the change-of-listing form; never ticked in advance on
                # a confirmation (a new consent): publishing the signer is opted into each time.
                "signer_public": "yes"
                if invitation.signer_public
                and invitation.state == signon.CONFIRMED
                and not page.stale
                else "",
            },
        }
        return self.html("signon.html", status=status, **context)

    def ask_withdraw(self, token: str) -> Response:
        """The first step of withdrawing: ask once more; only the answer's own POST withdraws.

        Nothing is written: going back from this page leaves the signature as it was.
        """
        with self.database.reading() as session:
            page = self.load(session, token)
            if isinstance(page, Response):
                return page  # closed, unknown or revoked: the same page as for a GET
            if page.invitation.state != signon.CONFIRMED:
                return self.render_page(
                    page,
                    status=409,
                    notice=N_(
                        "Your organisation has no confirmed signature to withdraw; "
                        "its answer is shown below."
                    ),
                )
            return self.html(
                "withdraw.html",
                language=self.language_of(page.definition, page.contact_languages),
                form_query=self.chosen_query(),
                environment=self.environment_for(page.definition),
                title=page.version.title,
                organisation=page.organisation.name,
                listed_as=page.invitation.display_name or page.organisation.name,
                csrf=self.csrf(page.token_hash),
            )

    def client_ip(self) -> str | None:
        """The visitor's address (behind a trusted proxy: the one it forwarded)."""
        return request.remote_addr

    # --- handlers ------------------------------------------------------------------

    def show(self, token: str) -> Response:
        """GET/HEAD: show the page; count a view only when a person seems to be looking."""
        human = request.method == "GET" and not looks_like_scanner(
            request.headers.get("User-Agent", "")
        )
        with self.database.reading() as session:
            page = self.load(session, token, request.args.get("version"))
        if isinstance(page, Response):
            return page
        if human and self._counts_as_view(page.access):
            self._record_view(page)
        response = self.render_page(page)
        response.set_cookie(
            VISIT_COOKIE,
            "1",
            max_age=365 * 86_400,
            path="/s/",
            secure=self.secure_cookie,
            httponly=True,
            samesite="Strict",
        )
        return response

    def _record_view(self, page: _Page) -> None:
        """Count the view in its own transaction; if the database takes no writes, log it.

        The page is shown all the same: a full or read-only disk loses the count, not
        the organisation's chance to read and answer.
        """
        try:
            with self.writing() as session:
                links.record_view(session, page.campaign, page.access, ip=self.client_ip())
        except (SQLAlchemyError, self.database.engine.dialect.loaded_dbapi.Error) as exc:
            # (The driver's own error too: SQLite's BEGIN is sent straight to the driver.)
            log.warning(
                "A view of a sign-on page of campaign %s could not be recorded; the page was "
                "shown (%s)",
                page.campaign.slug,
                _driver_message(exc),
            )

    def _counts_as_view(self, access: links.LinkAccess) -> bool:
        if request.cookies.get(VISIT_COOKIE):
            return True
        age = (utcnow() - access.issued_at).total_seconds()
        return age > SCANNER_QUIET_SECONDS

    def decide(self, token: str) -> Response:
        """POST: one decision from the form; refused once the sign-on has closed.

        The hot path of sign-on under load: the form and its CSRF key are checked
        before any database work, and the transaction is one Core query for the
        link and the invitation's state, then `signon.transition`. The full page
        (ORM rows, rendering) is loaded only to answer a form that cannot be taken.
        """
        form = posted_form()
        if form is None:
            return self.problem(
                400, N_("The form was not understood. Reload the page and try again.")
            )
        action = form.get("action", "")
        refused = self._refuse_request(token, action)
        if refused is not None:
            return refused
        token_hash = tokens.token_hash(token)  # once: for the form's key and the lookup
        refused = self._refuse_form(token_hash, form)
        if refused is not None:
            return refused
        if action == "withdraw" and form.get(WITHDRAW_CONFIRMED) != "yes":
            return self.ask_withdraw(token)
        # A Core connection, no Session: the hot path pays for no unit of work it does not use.
        with self.answering() as connection:
            result = self._answer_link(connection, token, token_hash, action, form)
        if isinstance(result, Response):
            return result
        if result:
            self.kept_texts.add(result)
        # Post/redirect/get: a reload after answering never posts again. A bare 303 (what a
        # browser follows), not flask.redirect's HTML page for clients that do not.
        return Response(status=303, headers={"Location": self.answer_location(token)})

    def _refuse_request(self, token: str, action: str) -> Response | None:
        """The answer to an action or a link that cannot be, whatever the form holds, or None."""
        if action not in ACTIONS:
            return self.problem(
                400, N_("The form was not understood. Reload the page and try again.")
            )
        if not tokens.well_formed(token):
            return self.neutral(404)
        return None

    def _refuse_form(self, token_hash: str, form: Any) -> Response | None:
        """The answer to a form whose key is not this link's, or None."""
        sent = form.get("csrf", "").encode("utf-8")  # bytes: compare_digest refuses non-ASCII str
        if not hmac.compare_digest(sent, self.csrf(token_hash).encode("ascii")):
            return self.problem(
                400, N_("This form is out of date. Reload the page and answer again.")
            )
        return None

    def _answer_link(
        self,
        connection: prepared.DirectConnection,
        token: str,
        token_hash: str,
        action: str,
        form: Any,
    ) -> Response | tuple[int, str] | None:
        """The link's answer in this transaction, or the page for a link that takes none."""
        link = links.link_for_answer(connection, token_hash)
        if link is None:
            return self.neutral(404)
        if signon.closed_by_staff(link.campaign, utcnow()):
            return self._page_again(connection, token)  # the closed page: what it answered
        return self._answer(connection, token, link, action, form)

    def _answer(
        self,
        connection: prepared.DirectConnection,
        token: str,
        link: links.AnswerLink,
        action: str,
        form: Any,
    ) -> Response | tuple[int, str] | None:
        """Take one answer; a page when it cannot be taken, else the text newly kept, if any."""
        try:
            if link.campaign.published_hash is None:
                letter = self.letters.current(link.campaign.slug)
            else:
                with Session(bind=connection.connection) as session:
                    letter = self.letter(session, link.campaign)
        except CampaignError:
            log.exception("The letter of campaign %s cannot be read", link.campaign.slug)
            return self.problem(503, N_("The letter cannot be shown right now. Please try later."))
        deadline = signon.effective_deadline(
            letter.definition.deadline, link.campaign.extended_until
        )
        if deadline is not None and utcnow() >= deadline:
            return self._page_again(connection, token)  # the files' deadline, synced or not
        # The deadline in force is the files' (or an extension), not the row's last sync.
        campaign = link.campaign._replace(deadline=deadline)
        # The confirmation binds the version the page showed: the hash it posted is that
        # version's, and must still be a current version's exact hash.
        version = letter.version_with(form.get("text_hash")) if action == "confirm" else None
        refused = self._refuse_for_text(connection, token, link, letter, action, version)
        if refused is not None:
            return refused
        try:
            fields = decision_fields(action, form, link.organisation_name, link.display_name)
            if fields.get("proposed_name"):
                self._check_proposal(connection, letter, link, fields)
        except FormErrors as problems:
            values = {k: form.get(k, "") for k in FORM_VALUES}
            return self._page_again(
                connection, token, status=400, errors=problems.errors, values=values
            )
        kept = None
        if version is not None and (link.campaign.id, version.text_hash) not in self.kept_texts:
            with Session(bind=connection.connection) as session:  # once per text and process
                consent.remember(session, link.campaign.id, version)
            kept = (link.campaign.id, version.text_hash)
        try:
            signon.transition(
                connection,
                campaign,
                link.organisation_id,
                action,
                actor="token holder",
                text_hash=version.text_hash if version is not None else None,
                ip=self.client_ip(),
                fields=fields,
                detail={"language": version.language} if version is not None else None,
                current=link.invitation,
            )
        except SignOnError:
            # Another answer got there first (a double click, a colleague): show where it stands.
            return self._page_again(
                connection,
                token,
                notice=N_("Your organisation's answer had already been recorded, as shown below."),
            )
        return kept

    def _refuse_for_text(  # noqa: PLR0917 - the answer's parts, passed on
        self,
        connection: prepared.DirectConnection,
        token: str,
        link: links.AnswerLink,
        letter: Letter,
        action: str,
        version: consent.LetterVersion | None,
    ) -> Response | None:
        """The page again when the answer was given to other words than the current ones."""
        if action == "confirm" and version is None:
            return self._page_again(
                connection,
                token,
                status=409,
                notice=N_(
                    "The letter's text changed while you were reading it. Please read "
                    "the text below, which is the current one, and confirm again."
                ),
            )
        if action == "change_listing":
            return self._refuse_listing_change(connection, token, link, letter)
        return None

    def _refuse_listing_change(
        self,
        connection: prepared.DirectConnection,
        token: str,
        link: links.AnswerLink,
        letter: Letter,
    ) -> Response | None:
        """The page again when the listing cannot change without a new consent, else None.

        Only a confirmation of the current text may change how it is listed: an
        organisation that has not signed, or signed an earlier text, chooses on the
        confirmation form instead.
        """
        invitation = link.invitation
        if invitation.state != signon.CONFIRMED:
            notice = N_(
                "Your organisation has not signed, so there is no listing to change. To sign, "
                "confirm below; you choose there how your organisation is listed."
            )
            return self._page_again(connection, token, status=409, notice=notice)
        if invitation.text_hash in letter.definition.current_hashes:
            return None
        with Session(bind=connection.connection) as session:
            if invitation.text_hash in consent.current_hashes(session, letter.definition):
                return None
        notice = N_(
            "The letter's text changed since your organisation confirmed it, so the listing "
            "cannot be changed alone. Read the current text and confirm it below; you choose "
            "there how your organisation is listed."
        )
        return self._page_again(connection, token, status=409, notice=notice)

    def _check_proposal(
        self,
        connection: prepared.DirectConnection,
        letter: Letter,
        link: links.AnswerLink,
        fields: dict[str, str | bool | None],
    ) -> None:
        """Refuse a proposed name that may not be printed for this organisation (FormErrors)."""
        with Session(bind=connection.connection) as session:  # only when a name is proposed
            try:
                fields["proposed_name"] = corrections.check_proposal(
                    session,
                    letter.definition,
                    link.organisation_id,
                    link.organisation_name,
                    str(fields["proposed_name"] or ""),
                )
            except NameProposalError as refused:
                raise FormErrors({"display_name": proposal_words(refused)}) from refused

    def _page_again(
        self, connection: prepared.DirectConnection, token: str, **render: Any
    ) -> Response:
        """The sign-on page as this transaction sees it now, with a notice or the form's errors."""
        with Session(bind=connection.connection) as session:
            page = self.load(session, token, request.args.get("version"))
            return page if isinstance(page, Response) else self.render_page(page, **render)


def _version_query() -> str:
    """`version=<code>` of the request (no `?`), kept through the redirect after an answer."""
    from coalitionletter.campaigns.letter_toml import LANGUAGE_CODE

    requested = request.args.get("version", "")
    return f"version={requested}" if LANGUAGE_CODE.match(requested) else ""


def shown_version(
    session: Any,
    letter: Letter,
    invitation: Invitation,
    contact_languages: tuple[str | None, ...],
    requested: str | None,
) -> str:
    """The language of the letter's version a page shows.

    The one asked for (`?version=`) if the letter has it; else the version the
    organisation confirmed; else its contact's language; else the campaign's own.
    """
    definition = letter.definition
    codes = definition.languages
    if len(codes) == 1:
        return codes[0]
    if requested in codes:
        return str(requested)
    if invitation.state == signon.CONFIRMED and invitation.text_hash:
        confirmed = definition.version_of(invitation.text_hash)
        language = (
            confirmed.language
            if confirmed is not None
            else consent.language_of(session, invitation.campaign_id, invitation.text_hash)
        )
        if language == "":
            language = definition.language  # a kept copy of the campaign's own version
        if language in codes:
            return str(language)
    for tag in contact_languages:
        spoken = (tag or "").replace("_", "-").lower()
        for candidate in (spoken, spoken.split("-")[0]):
            if candidate in codes:
                return candidate
    return definition.language


def version_links(definition: CampaignDefinition, shown: str) -> list[dict[str, Any]]:
    """The letter's language versions as the page links to them (none for one language)."""
    from coalitionletter.render import language_name

    if len(definition.versions) < 2:
        return []
    return [
        {
            "language": v.language,
            "name": language_name(v.language),
            "href": f"?version={v.language}",
            "current": v.language == shown,
        }
        for v in definition.versions
    ]
