"""Demo data: door devices at every branch, members' cards, and weeks of access logs."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from access import credentials as creds
from access.models import AccessDevice, AccessLog, AccessPolicy, Credential, Reason, Result
from accounts.models import Branch, Member
from memberships.models import Membership

WEEKS = 5
DENIAL_REASONS = [
    Reason.PAST_DUE,
    Reason.FROZEN,
    Reason.UNKNOWN_CREDENTIAL,
    Reason.CODE_EXPIRED,
    Reason.OUTSIDE_PLAN_HOURS,
    Reason.EXPIRED,
]


def seed(*, organisation, rng: random.Random) -> None:
    if AccessDevice.objects.exists():
        return
    branches = list(Branch.objects.order_by("pk"))
    if not branches:
        return
    devices = {}
    for branch in branches:
        AccessPolicy.objects.get_or_create(branch=branch, defaults={"anti_passback_minutes": 10})
        made = []
        for name, kind, direction in [
            ("Entrance turnstile", AccessDevice.Kind.TURNSTILE, AccessDevice.Direction.ENTRY),
            ("Exit turnstile", AccessDevice.Kind.TURNSTILE, AccessDevice.Direction.EXIT),
            ("Front desk kiosk", AccessDevice.Kind.KIOSK, AccessDevice.Direction.BOTH),
        ]:
            # Demo devices get a key nobody knows: rotate one in the admin to use it.
            issued = creds.issue_device_key()
            made.append(
                AccessDevice(
                    branch=branch,
                    name=name,
                    kind=kind,
                    direction=direction,
                    key_prefix=issued.prefix,
                    key_hash=issued.key_hash,
                )
            )
        devices[branch.pk] = AccessDevice.objects.bulk_create(made)

    members = list(Member.objects.filter(status=Member.Status.ACTIVE).order_by("pk"))
    cards = Credential.objects.bulk_create(
        [
            Credential(member=m, kind=Credential.Kind.CARD, number=f"DEMO{m.pk:06d}", label="Fob")
            for m in members
            if rng.random() < 0.4
        ]
    )
    card_of = {c.member_id: c.pk for c in cards}
    membership_of = dict(
        Membership.objects.filter(status=Membership.Status.ACTIVE)
        .order_by("member_id", "-start_date")
        .distinct("member_id")
        .values_list("member_id", "pk")
    )
    _seed_logs(
        members=members,
        branches=branches,
        devices=devices,
        card_of=card_of,
        membership_of=membership_of,
        rng=rng,
    )


def _seed_logs(*, members, branches, devices, card_of, membership_of, rng) -> None:
    now = timezone.now()
    by_pk = {b.pk: b for b in branches}
    rows = []
    for member in members:
        visits_a_week = rng.choice([0, 1, 2, 2, 3, 3, 4, 5])
        home = by_pk.get(member.home_branch_id, branches[0])
        for day in range(WEEKS * 7, -1, -1):
            if rng.random() > visits_a_week / 7:
                continue
            branch = home if rng.random() < 0.85 else rng.choice(branches)
            entrance, exit_, _kiosk = devices[branch.pk]
            local_day = (now - timedelta(days=day)).astimezone(ZoneInfo(branch.timezone)).date()
            hour = rng.choice([6, 7, 7, 8, 12, 12, 13, 17, 18, 18, 19, 20])
            entered = datetime(
                local_day.year,
                local_day.month,
                local_day.day,
                hour,
                rng.randrange(60),
                tzinfo=ZoneInfo(branch.timezone),
            )
            if entered > now:
                continue
            common = {
                "branch": branch,
                "member": member,
                "credential_id": card_of.get(member.pk),
                "membership_id": membership_of.get(member.pk),
            }
            denied = rng.random() < 0.04
            rows.append(
                AccessLog(
                    device=entrance,
                    occurred_at=entered,
                    received_at=entered,
                    direction=AccessLog.Direction.ENTRY,
                    result=Result.DENIED if denied else Result.GRANTED,
                    reason=rng.choice(DENIAL_REASONS) if denied else Reason.OK,
                    **common,
                )
            )
            if denied:
                continue
            left = entered + timedelta(minutes=rng.randrange(40, 110))
            if left < now and rng.random() < 0.7:
                rows.append(
                    AccessLog(
                        device=exit_,
                        occurred_at=left,
                        received_at=left,
                        direction=AccessLog.Direction.EXIT,
                        result=Result.GRANTED,
                        reason=Reason.CHECKOUT,
                        **common,
                    )
                )
    # A reader probed with unknown cards this morning: shows up as an alert.
    probed = branches[0]
    for i in range(4):
        at = now - timedelta(minutes=30 - i)
        rows.append(
            AccessLog(
                branch=probed,
                device=devices[probed.pk][0],
                occurred_at=at,
                received_at=at,
                result=Result.DENIED,
                reason=Reason.UNKNOWN_CREDENTIAL,
                presented=f"FFFF{i:04d}",
            )
        )
    rows.sort(key=lambda r: r.occurred_at)
    AccessLog.objects.bulk_create(rows, batch_size=2000)
