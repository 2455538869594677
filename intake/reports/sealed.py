"""A report the reporter's browser sealed (SPEC 11), checked and handed to `submit`.

Shared by the JSON API and the report form's own sealed post: the token is
read and checked against the clear fields and the envelope here, once.
"""

from __future__ import annotations

from intake import i18n
from intake.context import AppContext
from intake.models import utcnow
from intake.reports import prepared as prepared_tokens
from intake.reports.schemas import ClearFieldsIn, SealedReportIn
from intake.reports.submission import Submission
from intake.vocab import Channel


def sealed_submission(
    context: AppContext,
    report: SealedReportIn,
    *,
    channel: Channel,
    language: str,
    source: bytes | None,
) -> Submission:
    """The submission of a browser-sealed report; InvalidInput names what is wrong."""
    translations = i18n.translations_for(i18n.negotiate_locale(language, None))
    token = prepared_tokens.read(
        context.secret, report.prepared, now=utcnow(), translations=translations
    )
    presealed = prepared_tokens.check_sealed(
        context.secret,
        token,
        clear=report.clear_fields(),
        envelope=report.envelope,
        translations=translations,
    )
    return Submission(
        report=ClearFieldsIn.model_validate(report.clear_fields()),
        channel=channel,
        language=language,
        source=source,
        presealed=presealed,
    )
