"""The chat bot: Telegram (aiogram 3) and Zalo Official Account, mirroring notices (issue 7)."""
