from django.urls import path

from integrations import api

urlpatterns = [
    path("search/", api.Search.as_view(), name="api-search"),
]
