"""Answers written from tool results alone: the built-in engine's words, and the
replacement for a model answer that stated something the tools did not say."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .tools import ToolCall


def _session_line(row: dict) -> str:
    places = (
        _("full, %(n)s waiting") % {"n": row["waitlist"]}
        if row.get("full")
        else _("%(n)s places left") % {"n": row["places_left"]}
    )
    line = _("%(cls)s at %(branch)s, %(day)s %(time)s–%(ends)s, %(places)s") % {
        "cls": row["class"],
        "branch": row["branch"],
        "day": row["day"],
        "time": row["time"],
        "ends": row["ends"],
        "places": places,
    }
    if row.get("trainer"):
        line += _(" (with %(trainer)s)") % {"trainer": row["trainer"]}
    if row.get("my_booking"):
        line += _(" — you are %(status)s") % {"status": row["my_booking"]["status"]}
    return "- " + line


def find_classes(result: dict) -> str:
    rows = result.get("classes", [])
    if not rows:
        return _("I found no upcoming classes matching that in the next two weeks.")
    head = _("Here is what I found:") if len(rows) > 1 else _("The next one:")
    return "\n".join([head, *(_session_line(r) for r in rows)])


def my_bookings(result: dict) -> str:
    rows = result.get("bookings", [])
    if not rows:
        return _("You have no upcoming bookings.")
    lines = [_("Your upcoming bookings:")]
    for row in rows:
        status = (
            _("waitlist place %(pos)s") % {"pos": row.get("waitlist_position")}
            if row["status"] == "waitlisted"
            else _("booked")
        )
        who = "" if row["for"] == _("you") else _(" for %(name)s") % {"name": row["for"]}
        lines.append(
            "- "
            + _("%(cls)s at %(branch)s, %(day)s %(time)s: %(status)s%(who)s")
            % {
                "cls": row["class"],
                "branch": row["branch"],
                "day": row["day"],
                "time": row["time"],
                "status": status,
                "who": who,
            }
        )
    return "\n".join(lines)


def plans_and_prices(result: dict) -> str:
    rows = result.get("plans", [])
    if not rows:
        return _("No plans are on sale at the moment.")
    lines = [_("Plans on sale:")]
    for row in rows:
        price = f"{row['price']} {row['currency']}"
        if row.get("billed_every"):
            price += _(" every %(period)s") % {"period": row["billed_every"]}
        extra = ""
        if row.get("intro_price") is not None:
            extra += _(", first period %(p)s %(c)s") % {
                "p": row["intro_price"],
                "c": row["currency"],
            }
        if row.get("signup_fee"):
            extra += _(", sign-up fee %(p)s %(c)s") % {
                "p": row["signup_fee"],
                "c": row["currency"],
            }
        if row.get("credits"):
            extra += _(", %(n)s class credits") % {"n": row["credits"]}
        lines.append(f"- {row['plan']} ({row['kind']}): {price}{extra}")
    return "\n".join(lines)


def opening_hours(result: dict) -> str:
    lines = []
    for branch in result.get("branches", []):
        lines.append(_("%(branch)s (%(address)s):") % branch)
        if not branch["hours"]:
            lines.append("- " + _("no opening hours published"))
        for hours in branch["hours"]:
            lines.append(f"- {hours['day']}: {hours['opens']}–{hours['closes']}")
    return "\n".join(lines) or _("No branch is open.")


def my_membership(result: dict) -> str:
    membership = result.get("membership")
    if membership is None:
        text = _("You have no membership at the moment.")
    else:
        text = _("Your membership: %(plan)s, %(status)s, since %(started)s") % membership
        if membership.get("ends"):
            text += _(", ends %(ends)s") % membership
        text += "."
        if membership.get("credits_left") is not None:
            text += " " + _("Class credits left: %(n)s.") % {"n": membership["credits_left"]}
    if result.get("open_invoices"):
        text += " " + _("You owe %(owed)s %(currency)s on %(n)s open invoice(s).") % {
            "owed": result["owed"],
            "currency": result["currency"],
            "n": result["open_invoices"],
        }
    else:
        text += " " + _("You owe nothing on invoices.")
    if result.get("not_yet_invoiced") not in (None, "0.00"):
        text += " " + _("Charges not yet invoiced: %(amount)s %(currency)s.") % {
            "amount": result["not_yet_invoiced"],
            "currency": result["currency"],
        }
    return text


def today_figures(result: dict) -> str:
    lines = [_("Today's figures:")]
    lines += [f"- {row['figure']}: {row['value']}" for row in result.get("figures", [])]
    return "\n".join(lines)


def at_risk_members(result: dict) -> str:
    rows = result.get("members", [])
    if not rows:
        return _("No active member has been away for %(days)s days.") % {
            "days": result["days_without_visit"]
        }
    lines = [
        _("Members with no visit for %(days)s days or more (by member number):")
        % {"days": result["days_without_visit"]}
    ]
    for row in rows:
        seen = (
            _("last visit %(day)s") % {"day": row["last_visit"]}
            if row["last_visit"]
            else _("no visit recorded")
        )
        lines.append(f"- #{row['member_number']} ({row['plan']}): {seen}")
    return "\n".join(lines)


def member_status(result: dict) -> str:
    return _(
        "Member #%(member_number)s: %(member_status)s; membership %(membership)s "
        "(%(membership_status)s); last visit %(last_visit)s; %(upcoming_bookings)s upcoming "
        "bookings; %(open_invoices)s open invoices."
    ) % {k: (v if v is not None else _("none")) for k, v in result.items()}


def tomorrow_classes(result: dict) -> str:
    rows = result.get("classes", [])
    if not rows:
        return _("There are no classes tomorrow.")
    lines = [_("Tomorrow's classes:")]
    template = _("%(cls)s at %(branch)s %(time)s: %(booked)s/%(capacity)s booked, %(n)s waiting")
    for row in rows:
        values = {
            "cls": row["class"],
            "branch": row["branch"],
            "time": row["time"],
            "booked": row["booked"],
            "capacity": row["capacity"],
            "n": row["waitlist"],
        }
        lines.append("- " + template % values)
    return "\n".join(lines)


def confirmation(result: dict) -> str:
    return result["summary"] + " " + _("Press Confirm to go ahead.")


def my_training_plan(result: dict) -> str:
    if not result.get("plan"):
        return _("You have no training plan assigned. Ask a trainer to build you one.")
    text = _("Your plan: %(plan)s, from %(start)s") % {
        "plan": result["plan"],
        "start": result["from"],
    }
    if result.get("until"):
        text += _(" until %(end)s") % {"end": result["until"]}
    text += "."
    if not result.get("today"):
        return text
    lines = [text, _("Today: %(day)s") % {"day": result["today"]}]
    lines += [f"- {row['exercise']}: {row['prescription']}" for row in result["exercises"]]
    return "\n".join(lines)


RENDERERS = {
    "find_classes": find_classes,
    "my_bookings": my_bookings,
    "plans_and_prices": plans_and_prices,
    "opening_hours": opening_hours,
    "my_membership": my_membership,
    "my_training_plan": my_training_plan,
    "today_figures": today_figures,
    "at_risk_members": at_risk_members,
    "member_status": member_status,
    "tomorrow_classes": tomorrow_classes,
}


def one(call: ToolCall) -> str:
    if "error" in call.result:
        return _("I couldn't do that: %(reason)s") % {"reason": call.result["error"]}
    if call.result.get("confirmation_required"):
        return confirmation(call.result)
    renderer = RENDERERS.get(call.name)
    return renderer(call.result) if renderer else ""


def from_calls(calls: list[ToolCall]) -> str:
    """The answer the tool results alone support (each call's own words, in order)."""
    parts = [text for text in (one(call) for call in calls) if text]
    if not parts:
        return _(
            "I couldn't find that in the gym's data. I can help with classes and places, "
            "your bookings, plans and prices, opening hours and your membership."
        )
    return "\n\n".join(dict.fromkeys(parts))
