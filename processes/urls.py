from django.urls import path

app_name = "processes"

urlpatterns: list = []
