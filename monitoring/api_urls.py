from django.urls import path

from monitoring import api

urlpatterns = [
    path("processes/<str:process_id>/statistics/", api.Statistics.as_view(), name="api-statistics"),
    path("reports/stages/", api.StageReport.as_view(), name="api-report-stages"),
    path("reports/exceptions/", api.ExceptionReport.as_view(), name="api-report-exceptions"),
    path("reports/bottlenecks/", api.Bottlenecks.as_view(), name="api-report-bottlenecks"),
    path("alerts/", api.AlertList.as_view(), name="api-alerts"),
]
