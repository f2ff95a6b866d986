from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from helpdesk import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/kb/", include("knowledge.api.urls")),
    path("api/v1/", include("tickets.api.urls")),
    path("console/chats/", include("channels_app.console_urls")),
    path("console/", include("tickets.urls")),
    path("help/", include("helpdesk.help_urls")),
    path("chat/", include("channels_app.urls")),
]

admin.site.site_header = "CardDesk"
admin.site.site_title = "CardDesk"
