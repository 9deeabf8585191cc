"""Attendance: check-in heatmap and peaks, occupancy, class fill and no-shows, trainers."""

from __future__ import annotations

from django.utils.translation import gettext as _

from access.selectors import branch_occupancy
from accounts.tenancy import require_scope
from reports.selectors.base import Period, Report, Table, _chart, _rate, _raw, totals

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def heatmap(period: Period, *, rollup_only: bool = False) -> list[list[int]]:
    """Check-ins by weekday (Monday first) x local hour, from the rollups."""
    rows = _raw(
        """
SELECT extract(isodow FROM d.day)::int - 1, g.h, sum(d.checkins_by_hour[g.h + 1])
FROM reports_dailyfigures d CROSS JOIN generate_series(0, 23) AS g(h)
WHERE d.organisation_id = %(org)s AND d.branch_id = ANY(%(branches)s)
  AND d.day BETWEEN %(start)s AND %(end)s
GROUP BY 1, 2
""",
        {
            "org": require_scope().organisation_id,
            "branches": period.branch_ids,
            "start": period.start,
            "end": period.end,
        },
    )
    grid = [[0] * 24 for _ in range(7)]
    for weekday, hour, n in rows:
        grid[weekday][hour] = int(n or 0)
    return grid


def classes_by(period: Period, dimension: str) -> list[list]:
    """Fill, waitlist, late-cancel and no-show rates by class type, trainer or time slot."""
    label = {
        "class_type": "ct.name",
        "trainer": "COALESCE(tp.display_name, '—')",
        "slot": "to_char(s.starts_at AT TIME ZONE b.timezone, 'Dy HH24:MI')",
    }[dimension]
    sql = f"""
WITH s AS (
    SELECT s.id, s.capacity, {label} AS label
    FROM classes_classsession s
    JOIN accounts_branch b ON b.id = s.branch_id
    JOIN classes_classtype ct ON ct.id = s.class_type_id
    LEFT JOIN accounts_trainerprofile tp ON tp.id = s.trainer_id
    WHERE s.organisation_id = %(org)s AND s.branch_id = ANY(%(branches)s)
      AND s.status = 'scheduled'
      AND (s.starts_at AT TIME ZONE b.timezone)::date BETWEEN %(start)s AND %(end)s
),
per AS (
    SELECT s.label, s.id, s.capacity,
           count(bk.id) FILTER (WHERE bk.status IN ('booked', 'attended', 'no_show')) AS held,
           count(bk.id) FILTER (WHERE bk.status = 'attended') AS attended,
           count(bk.id) FILTER (WHERE bk.status = 'no_show') AS no_shows,
           count(bk.id) FILTER (WHERE bk.status = 'late_cancelled') AS late,
           count(bk.id) FILTER (WHERE bk.status = 'waitlisted' OR bk.promoted_at IS NOT NULL)
               AS waitlisted
    FROM s LEFT JOIN bookings_booking bk ON bk.session_id = s.id
    GROUP BY 1, 2, 3
)
SELECT label, count(*), sum(capacity), sum(held), sum(attended), sum(no_shows), sum(late),
       sum(waitlisted)
FROM per GROUP BY 1 ORDER BY sum(held) DESC, 1
"""
    rows = _raw(
        sql,
        {
            "org": require_scope().organisation_id,
            "branches": period.branch_ids,
            "start": period.start,
            "end": period.end,
        },
    )
    return [
        [
            label,
            sessions,
            held,
            _rate(held, capacity),
            waitlisted,
            _rate(late, held + late),
            _rate(no_shows, held),
            attended,
        ]
        for label, sessions, capacity, held, attended, no_shows, late, waitlisted in rows
    ]


def pt_by_trainer(period: Period) -> list[list]:
    return [
        list(row)
        for row in _raw(
            """
SELECT tp.display_name, count(*) FILTER (WHERE ap.status IN ('booked', 'attended', 'no_show')),
       count(*) FILTER (WHERE ap.status = 'attended'), count(*) FILTER (WHERE ap.status = 'no_show')
FROM bookings_appointment ap
JOIN accounts_branch b ON b.id = ap.branch_id
JOIN accounts_trainerprofile tp ON tp.id = ap.trainer_id
WHERE ap.organisation_id = %(org)s AND ap.branch_id = ANY(%(branches)s)
  AND (ap.starts_at AT TIME ZONE b.timezone)::date BETWEEN %(start)s AND %(end)s
GROUP BY 1 ORDER BY 2 DESC, 1
""",
            {
                "org": require_scope().organisation_id,
                "branches": period.branch_ids,
                "start": period.start,
                "end": period.end,
            },
        )
    ]


def attendance_report(period: Period) -> Report:
    report = Report("attendance", _("Attendance"), period)
    now, before = totals(period), totals(period.previous())
    report.kpis = [
        (_("Check-ins"), now["checkins"], before["checkins"]),
        (_("Class places booked"), now["booked"], before["booked"]),
        (
            _("Class fill rate (%)"),
            _rate(now["booked"], now["capacity"]),
            _rate(before["booked"], before["capacity"]),
        ),
        (_("Waitlisted"), now["waitlisted"], before["waitlisted"]),
        (
            _("No-show rate (%)"),
            _rate(now["no_shows"], now["booked"]),
            _rate(before["no_shows"], before["booked"]),
        ),
        (_("Late cancellations"), now["late_cancels"], before["late_cancels"]),
        (_("Personal-training sessions"), now["pt_sessions"], before["pt_sessions"]),
    ]
    grid = heatmap(period)
    peaks = sorted(
        ((grid[d][h], WEEKDAYS[d], h) for d in range(7) for h in range(24)), reverse=True
    )[:5]
    report.tables["heatmap"] = Table(
        _("Check-ins by weekday and hour (local time)"),
        [_("Weekday"), *[f"{h:02d}" for h in range(24)]],
        [[WEEKDAYS[d], *grid[d]] for d in range(7)],
    )
    hours = [sum(grid[d][h] for d in range(7)) for h in range(24)]
    report.charts.append(
        (
            _("Check-ins by hour"),
            "bar",
            _chart([f"{h:02d}" for h in range(24)], [(_("Check-ins"), hours)]),
        )
    )
    report.tables["peaks"] = Table(
        _("Peak hours"),
        [_("Weekday"), _("Hour"), _("Check-ins")],
        [[day, f"{hour:02d}:00", n] for n, day, hour in peaks if n],
    )
    report.tables["occupancy"] = Table(
        _("Inside now"),
        [_("Branch"), _("Members inside")],
        [[b.name, len(branch_occupancy(branch=b))] for b in period.branches],
    )
    columns = [
        _("Sessions"),
        _("Places booked"),
        _("Fill rate (%)"),
        _("Waitlisted"),
        _("Late-cancel rate (%)"),
        _("No-show rate (%)"),
        _("Attended"),
    ]
    by_type = classes_by(period, "class_type")
    report.tables["class_types"] = Table(
        _("Classes by type (most popular first)"), [_("Class"), *columns], by_type
    )
    report.charts.append(
        (
            _("Most popular classes"),
            "bar",
            _chart(
                [r[0] for r in by_type[:10]], [(_("Places booked"), [r[2] for r in by_type[:10]])]
            ),
        )
    )
    report.tables["trainers"] = Table(
        _("Trainer utilisation (class places filled)"),
        [_("Trainer"), *columns],
        classes_by(period, "trainer"),
    )
    report.tables["slots"] = Table(
        _("Classes by time slot"), [_("Slot"), *columns], classes_by(period, "slot")
    )
    report.tables["pt"] = Table(
        _("Personal training by trainer"),
        [_("Trainer"), _("Sessions"), _("Attended"), _("No-shows")],
        pt_by_trainer(period),
    )
    return report
