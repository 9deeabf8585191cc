"""Django and the assistant's MCP endpoint in one ASGI app: ``uvicorn assistant.asgi:application``.

``/mcp`` (Streamable HTTP, ``assistant.mcp_server``) goes to the MCP SDK's app; every
other path to Django. The production WSGI tier (gunicorn) is unchanged; run this next
to it, or instead of it, where MCP clients should reach the gym.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gymsite.settings")
django_application = get_asgi_application()

from assistant.mcp_server import mcp_app  # noqa: E402  (needs the apps loaded)

MCP_PATH = "/mcp"


def build_application():
    """A fresh app: the MCP session manager runs once per app (one server lifetime)."""
    mcp_application = mcp_app(path=MCP_PATH)

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            # The MCP app's lifespan starts its session manager; Django has none.
            await mcp_application(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].rstrip("/") == MCP_PATH:
            await mcp_application(scope, receive, send)
        else:
            await django_application(scope, receive, send)

    return application


application = build_application()
