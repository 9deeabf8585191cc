"""The MCP endpoint, live (uvicorn in a thread), through the official ``mcp`` client:
it lists and runs the tools with a member's API token and refuses without one."""

import asyncio
import socket
import threading
import time

import httpx2
import pytest
import uvicorn
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tenancy import tenant_scope
from bookings.models import Booking

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mcp_url():
    from assistant.asgi import build_application

    application = build_application()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(timeout=10)


def _session(url, token, work, host=None):
    async def run():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if host:
            headers["Host"] = host
        async with (
            httpx2.AsyncClient(headers=headers, timeout=20) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)

    return asyncio.run(run())


def test_member_lists_and_runs_the_tools(demo, member, mcp_url):
    token = str(AccessToken.for_user(member.user))

    async def work(session):
        listed = await session.list_tools()
        found = await session.call_tool(
            "find_classes", {"class_type": "yoga", "branch": "Camden", "day": "tomorrow"}
        )
        offer = await session.call_tool(
            "book_class", {"session_id": demo.sessions["camden_flow"].pk}
        )
        token = offer.structured_content["confirmation_token"]
        done = await session.call_tool("confirm", {"confirmation_token": token})
        again = await session.call_tool("confirm", {"confirmation_token": token})
        staff_only = await session.call_tool("today_figures", {})
        return listed, found, offer, done, again, staff_only

    listed, found, offer, done, again, staff_only = _session(mcp_url, token, work)
    names = {tool.name for tool in listed.tools}
    assert {"find_classes", "my_bookings", "book_class", "confirm"} <= names
    assert "today_figures" not in names
    classes = found.structured_content["classes"]
    assert [row["class"] for row in classes] == ["Vinyasa Flow", "Yin Yoga"]
    assert offer.structured_content["confirmation_required"] is True
    assert done.structured_content["message"].startswith("Booked: Vinyasa Flow at Camden")
    assert again.is_error and "already confirmed" in again.content[0].text
    assert staff_only.is_error
    with tenant_scope(demo.gym):
        assert Booking.objects.filter(member=member).count() == 1


def test_no_token_no_tools(demo, mcp_url):
    response = httpx2.post(
        mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 401
    bad = httpx2.post(
        mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert bad.status_code == 401


def test_another_gyms_member_gets_nothing(demo, outsider, mcp_url):
    token = str(AccessToken.for_user(outsider.user))

    async def work(session):
        return await session.call_tool("find_classes", {"class_type": "yoga"})

    result = _session(mcp_url, token, work)
    assert result.is_error
    assert "not switched on" in result.content[0].text


def test_another_gyms_member_calling_this_gyms_host_gets_nothing(demo, outsider, mcp_url):
    token = str(AccessToken.for_user(outsider.user))

    async def work(session):
        return await session.call_tool("find_classes", {"class_type": "yoga"})

    result = _session(mcp_url, token, work, host="gym-a.test")
    assert result.is_error
    assert result.content[0].text == "You are not a member of this gym."
