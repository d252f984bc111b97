"""The web layer: one FastAPI server with the JSON API, the source view and the Gradio chat (see app.py).

Thin by design: retrieval and answer composition live in retrieve.py and answer.py; this package validates
outside input, turns AssistantErrors into HTTP errors or chat messages, and renders escaped HTML. Gradio is
imported by `create_app`, after it has switched telemetry off (Gradio reads that switch when it is imported).
"""
