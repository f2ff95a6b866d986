from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_ticket_reference_sequence")]
    operations = [TrigramExtension()]
