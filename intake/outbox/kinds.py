"""The core's outbox kinds. Channels name their own (`ChannelHooks.outbox_kinds`)."""

from __future__ import annotations

from typing import Final

NOTIFY: Final = "notify"  # a content-free alert to a focal point's `notify` address
