"""The prescription of one exercise in a plan: a small JSON document, checked by a schema.

What a trainer prescribes differs per exercise (sets of reps at a load for a squat,
a distance in a time for a row, a hold for a plank), so it is one validated JSON
object rather than a column per idea. The exercise itself stays a foreign key.
"""

from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

_COUNT = {"type": "integer", "minimum": 1}

PRESCRIPTION_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "sets": {**_COUNT, "maximum": 50},
        # A fixed count, or a range such as 8-12.
        "reps": {
            "oneOf": [
                {**_COUNT, "maximum": 1000},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["min", "max"],
                    "properties": {
                        "min": {**_COUNT, "maximum": 1000},
                        "max": {**_COUNT, "maximum": 1000},
                    },
                },
            ]
        },
        # In kilograms, or as a percentage of the member's known max (best estimated 1RM).
        "load": {
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["kg"],
                    "properties": {"kg": {"type": "number", "minimum": 0, "maximum": 1000}},
                },
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["percent_of_max"],
                    "properties": {
                        "percent_of_max": {"type": "number", "exclusiveMinimum": 0, "maximum": 150}
                    },
                },
            ]
        },
        # Eccentric, pause, concentric, pause in seconds; X for explosive ("31X0").
        "tempo": {"type": "string", "pattern": "^[0-9X]{4}$"},
        "rest_seconds": {"type": "integer", "minimum": 0, "maximum": 3600},
        "rpe": {"type": "number", "minimum": 1, "maximum": 10},
        "duration_seconds": {"type": "integer", "minimum": 1, "maximum": 86400},
        "distance_m": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000000},
        "notes": {"type": "string", "maxLength": 500},
    },
}


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(PRESCRIPTION_SCHEMA)
    return Draft202012Validator(PRESCRIPTION_SCHEMA)


def prescription_errors(value) -> list[str]:
    """Readable messages for everything wrong with ``value`` (empty when it is valid)."""
    messages = []
    for error in sorted(_validator().iter_errors(value), key=lambda e: list(e.path)):
        where = ".".join(str(part) for part in error.path) or _("prescription")
        messages.append(f"{where}: {error.message}")
    reps = value.get("reps") if isinstance(value, dict) else None
    bounds = (reps.get("min"), reps.get("max")) if isinstance(reps, dict) else ()
    if all(isinstance(n, int) for n in bounds) and len(bounds) == 2 and bounds[0] > bounds[1]:
        messages.append(_("reps: the lowest count is above the highest."))
    return messages


def validate_prescription(value) -> None:
    """Field validator: a ``ValidationError`` listing every problem, else nothing."""
    messages = prescription_errors(value)
    if messages:
        raise ValidationError(messages, code="invalid_prescription")


def describe(prescription: dict, *, max_kg=None) -> str:
    """A short human reading ("3 x 8-12 @ 60 kg, rest 90 s")."""
    parts = []
    sets, reps = prescription.get("sets"), prescription.get("reps")
    if isinstance(reps, dict):
        reps = f"{reps['min']}–{reps['max']}"
    if sets and reps:
        parts.append(f"{sets} × {reps}")
    elif sets:
        parts.append(_("%(sets)s sets") % {"sets": sets})
    elif reps:
        parts.append(_("%(reps)s reps") % {"reps": reps})
    load = prescription.get("load") or {}
    at = ""
    if "kg" in load:
        at = f"@ {load['kg']:g} kg"
    elif "percent_of_max" in load:
        at = f"@ {load['percent_of_max']:g}%"
        if max_kg:
            at += f" (≈{target_kg(load['percent_of_max'], max_kg):g} kg)"
    if at and parts:
        parts[-1] += f" {at}"
    elif at:
        parts.append(at)
    if "rpe" in prescription:
        parts.append(f"RPE {prescription['rpe']:g}")
    if "tempo" in prescription:
        parts.append(_("tempo %(tempo)s") % {"tempo": prescription["tempo"]})
    if "duration_seconds" in prescription:
        minutes, seconds = divmod(prescription["duration_seconds"], 60)
        parts.append(f"{minutes}:{seconds:02d}")
    if "distance_m" in prescription:
        parts.append(f"{prescription['distance_m']:g} m")
    if "rest_seconds" in prescription:
        parts.append(_("rest %(s)s s") % {"s": prescription["rest_seconds"]})
    return ", ".join(parts)


def target_kg(percent, max_kg) -> float:
    """A percentage of a known max, rounded to the 2.5 kg a gym's plates allow."""
    return round(float(max_kg) * float(percent) / 100 / 2.5) * 2.5
