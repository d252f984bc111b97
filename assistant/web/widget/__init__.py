"""The embeddable widget's server side: who may use a key (policy), the middleware that enforces it (gate), and the
routes that answer (routes). A key is public and proves nothing; what it allows rests on the page's Origin alone.
"""

from assistant.web.widget.gate import BODY_MAX, PREFIX, WidgetGate
from assistant.web.widget.policy import FOREIGN_ORIGIN, NO_ORIGIN, UNKNOWN_KEY, Policy, Verdict
from assistant.web.widget.routes import DEMO_CSP, STATIC, WIDGET_TOP_K_MAX, demo_page, router, snippet

__all__ = [
    "BODY_MAX",
    "DEMO_CSP",
    "FOREIGN_ORIGIN",
    "NO_ORIGIN",
    "PREFIX",
    "STATIC",
    "WIDGET_TOP_K_MAX",
    "UNKNOWN_KEY",
    "Policy",
    "Verdict",
    "WidgetGate",
    "demo_page",
    "router",
    "snippet",
]
