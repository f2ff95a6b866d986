"""Django admin for the tickets app (and the Shop model, whose scope is the tickets app's ShopPolicy).

Split by sub-domain; importing the package registers every ModelAdmin (admin autodiscovery imports
`tickets.admin`).
"""

from tickets.admin import automation, customers, organisation, shops, threads, tickets, tracking

__all__ = ["automation", "customers", "organisation", "shops", "threads", "tickets", "tracking"]
