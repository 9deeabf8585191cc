"""Load the shared starter exercise library (organisation empty: every gym sees it)."""

from django.db import migrations

from training.migrations._starter_exercises import STARTER_LIBRARY


def _rows():
    for line in STARTER_LIBRARY.strip().splitlines():
        name, category, equipment, primary, secondary, description, cues = line.split("|")
        yield {
            "name": name,
            "category": category,
            "equipment": equipment,
            "primary_muscles": [m for m in primary.split(",") if m],
            "secondary_muscles": [m for m in secondary.split(",") if m],
            "description": description,
            "cues": "\n".join(cue.strip() for cue in cues.split(";") if cue.strip()),
        }


def load(apps, schema_editor):
    Exercise = apps.get_model("training", "Exercise")
    existing = set(
        Exercise.objects.filter(organisation__isnull=True).values_list("name", flat=True)
    )
    Exercise.objects.bulk_create(
        Exercise(organisation=None, **row) for row in _rows() if row["name"] not in existing
    )


def unload(apps, schema_editor):
    Exercise = apps.get_model("training", "Exercise")
    names = [row["name"] for row in _rows()]
    # Shared exercises a plan or a log still uses stay (PROTECT would refuse anyway).
    PlanExercise = apps.get_model("training", "PlanExercise")
    SetLog = apps.get_model("training", "SetLog")
    used = set(PlanExercise.objects.values_list("exercise_id", flat=True)) | set(
        SetLog.objects.values_list("exercise_id", flat=True)
    )
    Exercise.objects.filter(organisation__isnull=True, name__in=names).exclude(pk__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
