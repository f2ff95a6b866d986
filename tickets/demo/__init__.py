"""Demo data for `manage.py seed_demo`: the cast and scripts (catalog, canned, content_*) and the seeding logic."""
