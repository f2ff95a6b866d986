from django.urls import path

from channels_app.views import demo, widget

app_name = "chat"

urlpatterns = [
    path("w/<str:key>/config", widget.widget_config, name="config"),
    path("w/<str:key>/upload", widget.widget_upload, name="upload"),
    path("f/<str:token>/", widget.widget_file, name="file"),
    path("demo/", demo.demo_page, name="demo"),
]
