from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("monitor/", views.monitor, name="monitor"),
    path("monitor/data/", views.monitor_data, name="monitor-data"),
    path("processes/<str:process_id>/monitor/", views.process_monitor, name="process-monitor"),
    path("reports/", views.reports_page, name="reports"),
    path("monitor/alerts/", views.alerts_page, name="alerts"),
]
