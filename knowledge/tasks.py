"""Celery tasks of the knowledge base: thin, one service call each (STYLE.md habit 6)."""

from celery import shared_task

from knowledge import services


@shared_task(name="knowledge.tasks.search_clicks_decay")
def search_clicks_decay() -> int:
    """Weekly: halve the learned click boosts so rankings follow what searchers choose now."""
    return services.search_clicks_decay()


@shared_task(name="knowledge.tasks.kb_index_rebuild")
def kb_index_rebuild() -> int:
    """On demand (after changing the segmentation dictionary): re-index every article and the vocabulary."""
    return services.kb_index_rebuild()
