"""Every string the widget shows, translated on the server (Django i18n) and sent with its configuration."""

from __future__ import annotations

from django.utils.translation import gettext as _


def widget_strings() -> dict[str, str]:
    return {
        "open": _("Chat with us"),
        "close": _("Close chat"),
        "title": _("Customer service"),
        "placeholder": _("Type your message…"),
        "send": _("Send"),
        "attach": _("Send a picture or file"),
        "start": _("Start chat"),
        "name": _("Your name"),
        "email": _("E-mail (for our reply)"),
        "email_invalid": _("Please enter a valid e-mail address."),
        "order_no": _("Order number (optional)"),
        "topic": _("What is it about?"),
        "topic_other": _("Something else"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost — reconnecting…"),
        "waiting": _("You are number %(position)s in the queue."),
        "eta": _("Estimated wait: about %(minutes)s min."),
        "eta_soon": _("An agent will be with you in a moment."),
        "no_agents": _(
            "No agent is online right now. Leave your message: we will answer here and by e-mail as soon as we can."
        ),
        "missed": _("This conversation continues as ticket %(ticket)s; we will reply by e-mail."),
        "active": _("You are chatting with %(agent)s."),
        "ended": _("This chat has ended."),
        "typing": _("%(name)s is typing…"),
        "read": _("Read"),
        "sending": _("Sending…"),
        "failed": _("Not sent — tap to retry"),
        "suggested": _("These articles may answer your question:"),
        "solved_it": _("This solved it"),
        "human": _("Talk to a person"),
        "human_ok": _("OK — an agent will answer you here."),
        "end": _("End chat"),
        "end_confirm": _("End this chat?"),
        "rate": _("How did we do?"),
        "rate_comment": _("Anything to add? (optional)"),
        "rate_send": _("Send rating"),
        "rated": _("Thank you for your feedback!"),
        "transcript": _("E-mail me the transcript"),
        "transcript_sent": _("The transcript is on its way to %(email)s."),
        "new_chat": _("Start a new chat"),
        "file_too_large": _("This file is too large."),
        "error": _("Something went wrong: %(message)s"),
        "you": _("You"),
        "bot": _("Assistant"),
    }
