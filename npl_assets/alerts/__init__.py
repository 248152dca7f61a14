"""Alerts for buyers: rules in a YAML file, a message per matching new listing to a webhook bot
(WeCom, DingTalk, Feishu, generic) or e-mail, each sent once (a SQLite delivery table)."""
