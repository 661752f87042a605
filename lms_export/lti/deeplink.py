"""Deep Linking 2.0: the cards an instructor picked, as resource links with line items.

Each card becomes one ``ltiResourceLink`` whose URL names the card, with a
line item (label = card title, scoreMaximum = the card's points, resourceId =
card id), so the platform makes a gradebook column the scores land in. A card
with nothing to score gets a link without a line item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lms_export import render
from lms_export.lti.catalog import gradable_points
from lms_export.lti.config import ToolSettings
from lms_export.lti.security import PlatformRegistration
from lms_export.lti.store import Launch
from lms_export.model import Card

SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


def label(card: Card, kind: str) -> str:
    """The card's title as a platform of ``kind`` names an activity or gradebook column.

    The title's words, never its markup. Moodle reads activity names as HTML
    (``format_string``, after its importer strips tags), so a title showing
    ``<script>`` reaches it escaped; Canvas and the specification read them
    as plain text.
    """
    return render.plain_text_as_html(card.title) if kind == "moodle" else render.plain_text(card.title)


def resource(settings: ToolSettings, card: Card, kind: str = "lti") -> DeepLinkResource:
    title = label(card, kind)
    link = DeepLinkResource().set_url(settings.card_url(card.id)).set_title(title)
    points = gradable_points(card)
    if points > 0:
        link.set_lineitem(LineItem().set_label(title).set_score_maximum(points).set_resource_id(card.id))
    return link


class _Response(DeepLink):
    """pylti1p3's response, without a null ``data`` claim when the request carried none."""

    def get_message_jwt(self, resources: Sequence[DeepLinkResource]) -> dict[str, object]:
        message = super().get_message_jwt(resources)
        if message.get(DATA) is None:
            message.pop(DATA, None)
        return message


def deep_link_settings(launch: Launch) -> dict[str, Any]:
    value = launch.claims.get(SETTINGS)
    return value if isinstance(value, dict) else {}


def response_jwt(
    registration: PlatformRegistration, launch: Launch, settings: ToolSettings, cards: Sequence[Card]
) -> str:
    """The signed LtiDeepLinkingResponse carrying one resource link per card."""
    response = _Response(registration, launch.deployment_id, deep_link_settings(launch))
    kind = registration.platform.kind
    return response.get_response_jwt([resource(settings, card, kind) for card in cards])
