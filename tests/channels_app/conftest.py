from tests.chat_support import online_agent, widget  # noqa: F401  (fixtures)
