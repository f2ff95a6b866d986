from channels_app.consumers.chat import ChatConsumer
from channels_app.consumers.console import ConsoleConsumer

__all__ = ["ChatConsumer", "ConsoleConsumer"]
