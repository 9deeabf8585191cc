"""A locked pay period never changes, whoever writes: its row and its lines are
refused by the database (the services check first and explain)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION staff_refuse_locked_period_change() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'staff_payperiod' THEN
        IF OLD.status = 'locked' THEN
            RAISE EXCEPTION 'pay period % is locked', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF EXISTS (
        SELECT 1 FROM staff_payperiod
        WHERE status = 'locked'
          AND id IN (
              CASE WHEN TG_OP = 'DELETE' THEN OLD.period_id ELSE NEW.period_id END,
              CASE WHEN TG_OP = 'UPDATE' THEN OLD.period_id ELSE NULL END
          )
    ) THEN
        RAISE EXCEPTION 'pay lines of a locked period cannot change'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER staff_payperiod_locked
    BEFORE UPDATE OR DELETE ON staff_payperiod
    FOR EACH ROW EXECUTE FUNCTION staff_refuse_locked_period_change();
CREATE TRIGGER staff_payline_locked
    BEFORE INSERT OR UPDATE OR DELETE ON staff_payline
    FOR EACH ROW EXECUTE FUNCTION staff_refuse_locked_period_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS staff_payline_locked ON staff_payline;
DROP TRIGGER IF EXISTS staff_payperiod_locked ON staff_payperiod;
DROP FUNCTION IF EXISTS staff_refuse_locked_period_change();
"""


class Migration(migrations.Migration):
    dependencies = [("staff", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
