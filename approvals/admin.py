from django.contrib import admin

from approvals.models import TaskNotification


@admin.register(TaskNotification)
class TaskNotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "task", "created_at", "sent_at"]
    list_filter = ["sent_at"]
    raw_id_fields = ["user", "task"]
