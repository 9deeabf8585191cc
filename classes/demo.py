"""Demo data: class types, rooms and a weekly timetable in each of the three branches,
with sessions from two weeks ago to two weeks ahead (the periodic job extends them)."""

import random
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Branch, TrainerProfile
from classes.models import ClassCategory, ClassSchedule, ClassType, Room
from classes.services import schedule_materialise

CATEGORIES = ["Yoga", "Cycling", "HIIT", "Strength", "Pilates", "Boxing"]

CLASS_TYPES = [
    # name, category, minutes, level, capacity, description
    ("Vinyasa Flow", "Yoga", 60, "all", 20, "A flowing, breath-led yoga class."),
    ("Yin Yoga", "Yoga", 75, "beginner", 16, "Slow, long-held stretches to unwind."),
    ("Spin 45", "Cycling", 45, "all", 24, "Music-driven indoor cycling intervals."),
    ("HIIT Blast", "HIIT", 30, "intermediate", 18, "Short, sharp full-body intervals."),
    ("Kettlebell Strength", "Strength", 45, "intermediate", 12, "Swings, cleans and presses."),
    ("Barbell Club", "Strength", 60, "advanced", 10, "Coached squats, presses and pulls."),
    ("Mat Pilates", "Pilates", 50, "all", 15, "Core strength and control."),
    ("Boxfit", "Boxing", 45, "all", 16, "Pads, bags and conditioning."),
]

# weekday lists, local start, class type name, room index
TIMETABLE = [
    ([0, 2, 4], time(7, 0), "Spin 45", 1),
    ([0, 2, 4], time(12, 30), "HIIT Blast", 0),
    ([0, 1, 2, 3], time(18, 30), "Vinyasa Flow", 0),
    ([1, 3], time(7, 0), "Kettlebell Strength", 2),
    ([1, 3], time(19, 30), "Boxfit", 2),
    ([4], time(18, 0), "Yin Yoga", 0),
    ([5], time(9, 0), "Spin 45", 1),
    ([5], time(10, 30), "Mat Pilates", 0),
    ([6], time(10, 0), "Barbell Club", 2),
    ([2], time(7, 15), "Mat Pilates", 0),
]


def seed(*, organisation, rng: random.Random) -> None:
    if ClassType.objects.exists():
        return
    categories = {
        name: ClassCategory.objects.create(name=name, slug=slugify(name)) for name in CATEGORIES
    }
    types = {
        name: ClassType.objects.create(
            name=name,
            slug=slugify(name),
            category=categories[category],
            duration_minutes=minutes,
            level=level,
            default_capacity=capacity,
            description=description,
        )
        for name, category, minutes, level, capacity, description in CLASS_TYPES
    }
    trainers = list(TrainerProfile.objects.prefetch_related("branches"))
    for branch in Branch.objects.order_by("pk"):
        rooms = [
            Room.objects.create(branch=branch, name="Studio 1", capacity=30),
            Room.objects.create(branch=branch, name="Cycle room", capacity=26),
            Room.objects.create(branch=branch, name="Strength zone", capacity=16),
        ]
        local_trainers = [t for t in trainers if branch in t.branches.all()] or trainers
        today = timezone.now().astimezone(ZoneInfo(branch.timezone)).date()
        start = today - timedelta(days=14)
        for weekdays, at, type_name, room_index in TIMETABLE:
            class_type = types[type_name]
            room = rooms[room_index]
            schedule = ClassSchedule.objects.create(
                branch=branch,
                class_type=class_type,
                room=room,
                trainer=rng.choice(local_trainers) if local_trainers else None,
                weekdays=weekdays,
                start_time=at,
                duration_minutes=class_type.duration_minutes,
                capacity=min(class_type.default_capacity, room.capacity),
                starts_on=start,
            )
            # Four weeks: two of history (attendance) and two ahead (bookings, waitlists).
            schedule_materialise(schedule=schedule, weeks=4, today=start)
