"""The assistant's tools over MCP (Model Context Protocol), Streamable HTTP transport.

Built with the official ``mcp`` package's low-level server: the tool list and calls
are ours (``assistant.tools``), so an MCP client sees exactly what the chat engines
see, scoped the same way. Every request carries the person's API token (our JWT,
``POST /api/v1/auth/login``) as ``Authorization: Bearer …``; the SDK's bearer
middleware refuses a request without a valid one (401).

Served by ``assistant.asgi`` (``uvicorn assistant.asgi:application``), which routes
``/mcp`` here and everything else to Django.
"""

from __future__ import annotations

import json

import anyio.to_thread
import mcp_types as types
from django.conf import settings
from django.db import close_old_connections
from mcp.server import Server
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken as JWTAccessToken

from accounts.models import Organisation, User
from accounts.selectors import organisation_for_user, organisation_id_for_host

from . import services
from .tools import Tool, tools_for

CONFIRM_TOOL = types.Tool(
    name="confirm",
    description=(
        "Do an action a tool proposed (book, cancel, waitlist), with the confirmation_token "
        "it returned. Call it only after the person said yes."
    ),
    input_schema={
        "type": "object",
        "properties": {"confirmation_token": {"type": "string"}},
        "required": ["confirmation_token"],
        "additionalProperties": False,
    },
)


class GymTokenVerifier:
    """Our API's JWT access tokens, checked as the API checks them."""

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = JWTAccessToken(token)
        except TokenError:
            return None
        user_id = str(claims[settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id")])
        return AccessToken(
            token=token,
            client_id=user_id,
            scopes=[],
            expires_at=int(claims["exp"]),
            subject=user_id,
        )


def _caller(ctx):
    """The person of the token, in the gym of the host they called (as the portal and the
    API choose it), else in their only gym."""
    access = get_access_token()
    if access is None:
        raise PermissionError("Not signed in.")
    user = User.objects.filter(pk=access.subject, is_active=True).first()
    if user is None:
        raise PermissionError("Not signed in.")
    request = getattr(ctx, "request", None)
    host = request.headers.get("host", "") if request is not None else ""
    organisation_id = organisation_id_for_host(host=host) if host else None
    if organisation_id is not None:
        organisation = Organisation.objects.get(pk=organisation_id)
    else:
        organisation = organisation_for_user(user=user)
    if organisation is None:
        raise PermissionError("This login belongs to no single gym: call the gym's own address.")
    return services.caller_for(user=user, organisation=organisation)


def _in_thread(function):
    """Django's ORM is synchronous: run it in a worker thread (the token context goes along)."""

    def run():
        close_old_connections()
        try:
            return function()
        finally:
            close_old_connections()

    return anyio.to_thread.run_sync(run)


def _mcp_tool(tool: Tool) -> types.Tool:
    return types.Tool(name=tool.name, description=tool.description, input_schema=tool.parameters)


async def list_tools(ctx, params) -> types.ListToolsResult:
    def run():
        caller = _caller(ctx)
        listed = [_mcp_tool(tool) for tool in tools_for(caller.role)]
        if any(tool.action for tool in tools_for(caller.role)):
            listed.append(CONFIRM_TOOL)
        return listed

    return types.ListToolsResult(tools=await _in_thread(run))


async def call_tool(ctx, params) -> types.CallToolResult:
    def run():
        caller = _caller(ctx)
        arguments = dict(params.arguments or {})
        if params.name == CONFIRM_TOOL.name:
            reply = services.assistant_confirm(
                caller=caller, token=str(arguments.get("confirmation_token", "")), surface="mcp"
            )
            return {"done": True, "message": reply.answer}
        return services.assistant_tool(caller=caller, name=params.name, arguments=arguments)

    try:
        result = await _in_thread(run)
    except PermissionError as exc:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=str(exc))], is_error=True
        )
    except services.ServiceError as exc:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=str(exc.message))], is_error=True
        )
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(result))],
        structured_content=result,
        is_error="error" in result,
    )


def mcp_app(*, path: str = "/mcp"):
    """The Starlette app of the MCP endpoint (run its lifespan: it starts the sessions)."""
    server = Server(
        "spotter-gym",
        instructions="Tools over one gym's classes, bookings, plans and opening hours.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    site = settings.SITE_URL.rstrip("/")
    hosts = list(settings.ALLOWED_HOSTS)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection="*" not in hosts,
        allowed_hosts=[h for host in hosts for h in (host, f"{host}:*")],
        allowed_origins=[site],
    )
    return server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        json_response=True,
        transport_security=security,
        # Our JWTs name no audience: the verifier checks them as the API does.
        auth=AuthSettings(
            issuer_url=site, resource_server_url=site + path, validate_token_resource=False
        ),
        token_verifier=GymTokenVerifier(),
    )
