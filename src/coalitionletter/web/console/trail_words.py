"""The trail's kinds of entry as the audit page names them, in the page's language.

The trail stores each entry's kind as the core wrote it (signon/states.py,
signon/links.py, mail/outbox.py, mail/transport.py, registry/removal.py,
reports/export.py); `coalitionletter audit` prints those keys as they are. The
console names the same keys here, marked for the catalogs; a kind not named
here (a newer one) is shown as stored.
"""

from __future__ import annotations

from coalitionletter.catalogs import N_, Words

# The msgids are the stored keys: in English the page shows what `audit` prints.
KINDS = {
    "invited": N_("invited"),
    "confirmed": N_("confirmed"),
    "reconfirmed": N_("reconfirmed"),
    "declined": N_("declined"),
    "withdrawn": N_("withdrawn"),
    "listing changed": N_("listing changed"),
    "name approved": N_("name approved"),
    "name rejected": N_("name rejected"),
    "viewed": N_("viewed"),
    "links revoked": N_("links revoked"),
    "sent": N_("sent"),
    "send failed": N_("send failed"),
    "send outcome unknown": N_("send outcome unknown"),
    "written to outbox file": N_("written to outbox file"),
    "published": N_("published"),
    "closed": N_("closed"),
    "deadline extended": N_("deadline extended"),
    "reopened": N_("reopened"),
    "invitation_removed": N_("invitation_removed"),
    "invitation_moved": N_("invitation_moved"),
    "delivered_exported": N_("delivered_exported"),
    "trail_snapshot": N_("trail_snapshot"),
}


def kind_words(kind: str) -> Words | str:
    """A kind of trail entry as the audit page names it (the stored key when unknown)."""
    return KINDS.get(kind, kind)
