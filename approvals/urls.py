from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="complete"),
    path("tasks/<int:pk>/claim/", views.task_claim, name="claim"),
    path("tasks/<int:pk>/unclaim/", views.task_unclaim, name="unclaim"),
    path("tasks/<int:pk>/delegate/", views.task_delegate, name="delegate"),
    path("tasks/<int:pk>/options/<str:field>/", views.task_options, name="task_options"),
    path("start/", views.start_list, name="start"),
    path("start/<str:process_id>/", views.start_process, name="start_process"),
    path("start/<str:process_id>/options/<str:field>/", views.start_options, name="start_options"),
    path("orders/", views.my_orders, name="orders"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("notices/<int:pk>/dismiss/", views.dismiss_notice, name="dismiss_notice"),
    path("language/", views.set_language, name="set_language"),
    # Under the account's pages, beside the API tokens.
    path("accounts/away/", views.away, name="away"),
    path("accounts/away/<int:pk>/end/", views.away_end, name="away_end"),
]
