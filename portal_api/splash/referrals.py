"""The "services near you" step: the matched services as the splash template shows them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cautiva.referrals.service import Referral, need_labels, phone_uri
from cautiva.surveys.forms import Form
from portal_api.splash.texts import LANGUAGES

_CONTACT_PARTS = re.compile(r"\s*[,;/]\s*|\s+(?:o|or|ou|oswa)\s+")


def contact_parts(contact: str) -> list[dict[str, str | None]]:
    """The contact split into its parts, each phone number with its `tel:` link."""
    parts = [part for part in _CONTACT_PARTS.split(contact.strip()) if part]
    return [{"text": part, "tel": phone_uri(part)} for part in parts]


def referral_items(
    referrals: Sequence[Referral], *, form: Form | None, lang: str
) -> list[dict[str, Any]]:
    """Each service with its needs in `lang` (the form's own words) and its languages by name."""
    labels = need_labels(form, lang)
    return [
        {
            "name": referral.name,
            "kind": referral.kind,
            "address": referral.address,
            "hours": referral.hours,
            "contact": contact_parts(referral.contact),
            "needs": [labels.get(code, code) for code in referral.needs],
            "languages": [LANGUAGES.get(code, code) for code in referral.languages],
        }
        for referral in referrals
    ]
