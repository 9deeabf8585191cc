"""The access log becomes a table range-partitioned by month on ``occurred_at``.

Forward: the table is renamed aside, a partitioned table of the same columns,
defaults and identity is created with its primary key on (id, occurred_at) (a
partitioned table's keys must include the partition key), one partition per month
from the oldest row to four months ahead plus a default partition, the rows are
copied, the identity continues after the last id, and the foreign keys and indexes
are recreated from the old table's own definitions before it is dropped. Nothing
references the log by foreign key. Backward: the same, into a plain table with the
primary key on id. Both run in the migration's transaction: a failure leaves the
table as it was.
"""

from django.db import migrations

_CONVERT = """
DO $$
DECLARE
    r record;
    defs text[];
    d text;
    month timestamptz;
BEGIN
    ALTER TABLE access_accesslog RENAME TO {old};
    ALTER INDEX access_accesslog_pkey RENAME TO {old}_pkey;
    CREATE TABLE access_accesslog (
        LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS
    ) {partition_by};
    ALTER TABLE access_accesslog ADD CONSTRAINT access_accesslog_pkey PRIMARY KEY ({pk});
    IF {partitioned} THEN
        month := date_trunc('month', coalesce((SELECT min(occurred_at) FROM {old}), now()), 'UTC');
        WHILE month < date_trunc('month', now(), 'UTC') + interval '4 months' LOOP
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF access_accesslog FOR VALUES FROM (%L) TO (%L)',
                'access_accesslog_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM'),
                month,
                date_trunc('month', month + interval '32 days', 'UTC')
            );
            month := date_trunc('month', month + interval '32 days', 'UTC');
        END LOOP;
        CREATE TABLE access_accesslog_default PARTITION OF access_accesslog DEFAULT;
    END IF;
    INSERT INTO access_accesslog SELECT * FROM {old};
    PERFORM setval(
        pg_get_serial_sequence('access_accesslog', 'id'),
        coalesce((SELECT max(id) FROM access_accesslog), 0) + 1,
        false
    );
    FOR r IN
        SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = '{old}'::regclass AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE access_accesslog ADD CONSTRAINT %I %s', r.conname, r.def);
    END LOOP;
    defs := ARRAY(
        SELECT regexp_replace(pg_get_indexdef(i.indexrelid),
                              ' ON (ONLY )?\\S+ ', ' ON access_accesslog ')
        FROM pg_index i
        WHERE i.indrelid = '{old}'::regclass AND NOT i.indisprimary
    );
    DROP TABLE {old} CASCADE;
    FOREACH d IN ARRAY defs LOOP
        EXECUTE d;
    END LOOP;
END
$$;
"""

TO_PARTITIONED = _CONVERT.format(
    old="access_accesslog_flat",
    partition_by="PARTITION BY RANGE (occurred_at)",
    pk="id, occurred_at",
    partitioned="true",
)
TO_PLAIN = _CONVERT.format(
    old="access_accesslog_parted", partition_by="", pk="id", partitioned="false"
)


class Migration(migrations.Migration):
    dependencies = [("access", "0002_request_keys")]

    operations = [migrations.RunSQL(TO_PARTITIONED, TO_PLAIN)]
