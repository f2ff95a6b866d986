from django.db import migrations

# The audit trail is append-only at the database level: even a bug or a shell session cannot rewrite it.
# TRUNCATE stays possible for the table owner (test teardown); the hash chain would reveal it in production.
SQL = """
CREATE FUNCTION carddesk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER helpdesk_auditevent_append_only
    BEFORE UPDATE OR DELETE ON helpdesk_auditevent
    FOR EACH ROW EXECUTE FUNCTION carddesk_audit_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS helpdesk_auditevent_append_only ON helpdesk_auditevent;
DROP FUNCTION IF EXISTS carddesk_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
