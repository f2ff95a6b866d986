"""The shape of a conversation script: alternatives for each turn, picked with the seeded random generator.

Templates use `str.format` placeholders filled per ticket:
`{name}` customer, `{agent}` agent display name, `{order_no}`, `{product}`, `{quantity}`, `{amount}` (with currency
sign), `{channel}` payment channel, `{paid_time}`, `{card_key}` first delivered key (masked by the message
service before storing), `{phone}`, `{settle_no}` settlement sheet number, `{redeem}` where to redeem the product,
`{ref}` ticket reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Script:
    """One category's conversation in one language."""

    subjects: tuple[str, ...]
    openings: tuple[str, ...]  # the customer's first message (order categories quote {order_no})
    agent_first: tuple[str, ...]  # acknowledges and starts checking
    agent_ask: tuple[str, ...]  # asks the customer for something: the ticket then waits (pending)
    follow_ups: tuple[str, ...]  # the customer's next message
    notes: tuple[str, ...]  # internal notes between agents
    resolutions: tuple[str, ...]  # the reply that solves it


@dataclass(frozen=True)
class Phrasebook:
    """All scripts of one language plus the turns every category shares."""

    language: str
    scripts: dict[str, Script]
    nudges: tuple[str, ...]  # "anyone there?" before an agent picks the ticket up
    thanks: tuple[str, ...]
    reopen: tuple[str, ...]  # the customer writes again after the ticket was solved
    hold_replies: tuple[str, ...]  # to the customer when the ticket goes on hold
    hold_notes: tuple[str, ...]  # why it is on hold (internal)
    triage_notes: tuple[str, ...]  # an internal note on a ticket nobody has taken yet
    merchant_notes: tuple[str, ...]  # the shop's owner adds context (internal)
    sign_offs: tuple[str, ...] = field(default=("",))


def pick(rng: random.Random, options: tuple[str, ...], values: dict[str, str]) -> str:
    return rng.choice(options).format_map(values)
