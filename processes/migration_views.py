"""Pages that migrate instances to another version: one instance, or all of a version; the dry run comes first.

Each is a wizard without JavaScript: choose the version (GET), pick a target
element for each element that waits (the dry run shows the result as a diff),
then confirm with a reason.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from engine import migration, runtime, waits
from engine.models import ProcessDefinition, ProcessInstance
from processes.forms import MigrateForm
from processes.services import instances_for_user

PREVIEW, CONFIRM = "preview", "confirm"
# A batch's dry run lists this many instances on the page; the counts cover all of them.
SHOWN_RESULTS = 200


def _other_versions(definition: ProcessDefinition) -> list[ProcessDefinition]:
    return list(ProcessDefinition.objects.filter(process_id=definition.process_id).exclude(pk=definition.pk)
                .order_by("-version").defer("bpmn_xml", "spec_json"))


def _chosen(request, choices: list[ProcessDefinition]) -> ProcessDefinition | None:
    """The version picked in the form (POST, else the query string), else the newest other one."""
    picked = request.POST.get("to_version") or request.GET.get("to_version")
    by_version = {str(d.version): d for d in choices}
    return by_version.get(picked or "") or (choices[0] if choices else None)


def _form(request, source: ProcessDefinition, target: ProcessDefinition | None, versions, element_ids) -> MigrateForm:
    names = migration.elements(source)
    targets = sorted(migration.waiting_elements(target).items()) if target else []
    elements = [(i, names.get(i, i)) for i in sorted(element_ids)]
    data = request.POST if request.method == "POST" else None
    return MigrateForm(data, versions=[v.version for v in versions], elements=elements, targets=targets,
                       initial={"to_version": target.version if target else None})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("engine.change_processinstance", raise_exception=True)
def migrate_instance(request, pk: int):
    """Move one instance to another version: the dry run as a diff, then the migration with a reason."""
    instance: ProcessInstance = get_object_or_404(instances_for_user(request.user).select_related("definition"), pk=pk)
    versions = _other_versions(instance.definition)
    target = _chosen(request, versions)
    # The elements it waits at now: each gets a picker for its counterpart.
    waiting = {w.element_id for w in waits.pending(instance)} if instance.state in ProcessInstance.RUNNING else set()
    form = _form(request, instance.definition, target, versions, waiting)
    context = {"instance": instance, "form": form, "versions": versions, "target": target}
    status = 200
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        mapping, to_version = form.mapping(), form.cleaned_data["to_version"]
        try:
            if action == CONFIRM:
                if not form.cleaned_data["reason"].strip():
                    raise migration.MigrationRefused([{"field": "reason", "message": _("Give a reason.")}])
                migration.migrate_instance(instance, to_version, mapping, user=request.user,
                                           reason=form.cleaned_data["reason"], seen_version=form.cleaned_data["seen"])
                messages.success(request, _("Instance moved to version %(version)s") % {"version": to_version})
                return redirect("processes:instance", pk)
            context["plan"] = migration.plan_migration(instance, to_version, mapping)
            context["mapping"] = mapping
            context["seen"] = instance.version
        except migration.MigrationRefused as exc:
            context["problems"], status = exc.problems, 400
        except (runtime.InstanceNotActive, runtime.Conflict) as exc:
            context["problems"], status = [{"message": str(exc)}], 409
    elif request.method == "POST":
        status = 400
    return render(request, "processes/migrate_instance.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("engine.change_processinstance", raise_exception=True)
def migrate_version(request, pk: int):
    """Move every running instance of one version to another: the dry run per instance first, then the batch."""
    source = get_object_or_404(ProcessDefinition.objects.defer("bpmn_xml", "spec_json"), pk=pk)
    versions = _other_versions(source)
    target = _chosen(request, versions)
    # Elements of this version with no element of the same id in the target: those may need a mapping.
    unmatched = set(migration.elements(source)) - set(migration.elements(target) if target else {})
    form = _form(request, source, target, versions, unmatched)
    running = migration.running_counts(source.process_id).get(source.version, 0)
    context = {"definition": source, "form": form, "versions": versions, "target": target, "running": running}
    status = 200
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        mapping, to_version = form.mapping(), form.cleaned_data["to_version"]
        dry_run = action != CONFIRM
        try:
            if not dry_run and not form.cleaned_data["reason"].strip():
                raise migration.MigrationRefused([{"field": "reason", "message": _("Give a reason.")}])
            results = migration.migrate_instances(source.process_id, source.version, to_version, mapping,
                                                  user=request.user, reason=form.cleaned_data["reason"],
                                                  dry_run=dry_run)
        except migration.MigrationRefused as exc:
            context["problems"], status = exc.problems, 400
        else:
            context.update({"results": results[:SHOWN_RESULTS], "dry_run": dry_run, "mapping": mapping,
                            "ok_count": sum(r["ok"] for r in results),
                            "failed_count": sum(not r["ok"] for r in results), "total": len(results)})
            if not dry_run:
                messages.success(request, _("%(ok)s of %(total)s instances moved to version %(version)s") % {
                    "ok": context["ok_count"], "total": len(results), "version": to_version})
    elif request.method == "POST":
        status = 400
    return render(request, "processes/migrate_version.html", context, status=status)
