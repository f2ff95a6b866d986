from django.db import migrations

# Ticket references (T-000123) come from their own sequence, so they are gap-tolerant, unique and known
# before the row is inserted (one INSERT, no update-after-insert).


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS tickets_ticket_reference_seq START 1",
            "DROP SEQUENCE IF EXISTS tickets_ticket_reference_seq",
        )
    ]
