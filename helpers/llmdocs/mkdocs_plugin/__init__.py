"""The `llmdocs` MkDocs plugin."""
