"""Help-centre knowledge-base pages, composed into the 'help' namespace by helpdesk/help_urls.py."""

from django.urls import path, re_path

from knowledge.views import beacon, help_centre

urlpatterns = [
    path("", help_centre.home, name="home"),
    path("search/", help_centre.search, name="search"),
    path("search/outcome/", beacon.search_outcome, name="search-outcome"),
    re_path(r"^search/outcome$", beacon.search_outcome),  # without the slash too: a POST cannot be redirected
    path("categories/<slug:slug>/", help_centre.category, name="category"),
    # reverse("help:article", kwargs={"pk": …, "slug": …}) or args=[pk]: both URLs show the article.
    path("articles/<int:pk>-<slug:slug>/", help_centre.article, name="article"),
    path("articles/<int:pk>/", help_centre.article, name="article"),
    path("articles/<int:pk>/vote/", help_centre.article_vote, name="article-vote"),
]
