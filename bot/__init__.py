"""The chat bot: Telegram through aiogram 3, Zalo Official Account through a thin async client, and a
rate-limited broadcaster that drains the chat channels of the outbox.

- settings.py: what the bot needs, built by wiring
- conversation.py: the commands, the same on every platform; texts.py: what the bot says
- transactions.py: one app context and transaction per update
- linking.py, choosing.py: Telegram routers (link a chat, block; list, join and leave groups)
- telegram.py: the Bot and the dispatcher composed of those routers
- zalo.py: the OA API client; zalo_webhook.py: the OA webhook and its text commands
- announcements.py: a notice as a chat message, entities.py: Telegram's text and entities
- telegram_api.py: the Bot API's sendMessage without aiogram; senders.py: one message to one chat
- limits.py: the platforms' pace; broadcaster.py: the outbox drained within it
- broadcasting.py: every platform's broadcaster, never importing aiogram (`nhomthu bot --broadcast-only`)
- process.py: all of it on one event loop (the Procfile's `bot`), or all but the broadcasting
"""
