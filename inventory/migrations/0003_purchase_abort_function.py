"""A tiny SQL function the flash-sale purchase statement calls to roll itself back.

The purchase runs as one statement in autocommit (no BEGIN / COMMIT round trips).
When the member's unit was counted and the order written but the shelf or the sale
had nothing left, the statement must undo its own writes: raising an error from
inside it aborts the whole statement, and with it every write it made.
Schema only; no data changes.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION inventory_purchase_lost() RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'flash-sale purchase lost the race for the last units'
        USING ERRCODE = 'IV001';
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS inventory_purchase_lost();"


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_lean_hot_path_indexes")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
