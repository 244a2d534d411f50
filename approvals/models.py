"""Object permissions on human tasks, with direct foreign keys so inbox queries stay fast."""

from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from django.db import models

from engine.models import HumanTask


class HumanTaskUserPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(HumanTask, on_delete=models.CASCADE)


class HumanTaskGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(HumanTask, on_delete=models.CASCADE)
