"""Every write of live chat goes through these functions (STYLE.md habit 1)."""

from channels_app.services.agents import (
    CapacityReached,
    agent_presence_set,
    chat_accept,
    chat_end_by_agent,
    chat_transfer,
)
from channels_app.services.assist import URGENT_PAYMENT_INTENTS, chat_bot_answer, chat_transcript_send
from channels_app.services.sessions import (
    Opened,
    Prechat,
    Sent,
    chat_customer_message,
    chat_deflect,
    chat_end_by_customer,
    chat_rate,
    chat_read,
    chat_session_open,
    chat_wants_human,
    resume_allowed,
)
from channels_app.services.sweep import chat_missed_sweep

__all__ = [
    "URGENT_PAYMENT_INTENTS",
    "CapacityReached",
    "Opened",
    "Prechat",
    "Sent",
    "agent_presence_set",
    "chat_accept",
    "chat_bot_answer",
    "chat_customer_message",
    "chat_deflect",
    "chat_end_by_agent",
    "chat_end_by_customer",
    "chat_missed_sweep",
    "chat_rate",
    "chat_read",
    "chat_session_open",
    "chat_transcript_send",
    "chat_transfer",
    "chat_wants_human",
    "resume_allowed",
]
