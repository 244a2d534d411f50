"""Small builders that return BPMN XML bytes for the engine's test processes.

Each builder writes one executable process whose flow is easy to read from
the call: `chain(...)` links start → elements → end, and the helpers below
write one element each. Files drawn by hand stay in tests/bpmn/.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
    ' id="Definitions_{process_id}" targetNamespace="http://lanebridge.test/bpmn">\n'
)


def definitions(process_id: str, body: str, *, executable: bool = True, name: str = "", extra: str = "") -> bytes:
    """One <bpmn:definitions> with one process whose content is `body`."""
    executable_attr = "true" if executable else "false"
    name_attr = f" name={quoteattr(name)}" if name else ""
    return (
        HEADER.format(process_id=process_id)
        + extra
        + f'  <bpmn:process id="{process_id}"{name_attr} isExecutable="{executable_attr}">\n'
        + body
        + "  </bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />\n'
    return (
        f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">\n'
        f'      <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>\n'
        "    </bpmn:sequenceFlow>\n"
    )


def start_event(element_id: str = "start") -> str:
    return f'    <bpmn:startEvent id="{element_id}" />\n'


def end_event(element_id: str = "end") -> str:
    return f'    <bpmn:endEvent id="{element_id}" />\n'


def script_task(element_id: str, script: str, name: str = "") -> str:
    return (
        f'    <bpmn:scriptTask id="{element_id}" name={quoteattr(name or element_id)}>\n'
        f"      <bpmn:script>{escape(script)}</bpmn:script>\n"
        "    </bpmn:scriptTask>\n"
    )


def user_task(element_id: str, name: str = "", fields: tuple[str, ...] = ()) -> str:
    form = ""
    if fields:
        form = (
            "      <bpmn:extensionElements><camunda:formData>\n"
            + "".join(f'        <camunda:formField id="{f}" label="{f}" type="string" />\n' for f in fields)
            + "      </camunda:formData></bpmn:extensionElements>\n"
        )
    return f'    <bpmn:userTask id="{element_id}" name={quoteattr(name or element_id)}>\n{form}    </bpmn:userTask>\n'


def service_task(element_id: str, operation: str | None, params: dict[str, str] | None = None,
                 result_variable: str = "result", retries: int | None = None, name: str = "",
                 backoff_base: int | None = None) -> str:
    """A service task calling `operation`; `params` maps parameter names to Python expressions."""
    if operation is None:
        return f'    <bpmn:serviceTask id="{element_id}" name={quoteattr(name or element_id)} />\n'
    parameters = "".join(
        f'          <spiffworkflow:parameter id="{key}" type="any" value={quoteattr(expr)} />\n'
        for key, expr in (params or {}).items()
    )
    backoff = f' backoff_base="{backoff_base}"' if backoff_base is not None else ""
    retry = f'        <spiffworkflow:retry retries="{retries}"{backoff} />\n' if retries is not None else ""
    return (
        f'    <bpmn:serviceTask id="{element_id}" name={quoteattr(name or element_id)}>\n'
        "      <bpmn:extensionElements>\n"
        f'        <spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="{result_variable}">\n'
        f"          <spiffworkflow:parameters>\n{parameters}          </spiffworkflow:parameters>\n"
        f"{retry}"
        "        </spiffworkflow:serviceTaskOperator>\n"
        "      </bpmn:extensionElements>\n"
        "    </bpmn:serviceTask>\n"
    )


def exclusive_gateway(element_id: str, default: str | None = None) -> str:
    default_attr = f' default="{default}"' if default else ""
    return f'    <bpmn:exclusiveGateway id="{element_id}"{default_attr} />\n'


def timer_boundary(element_id: str, attached_to: str, duration: str = "PT1H", interrupting: bool = True) -> str:
    cancel = "true" if interrupting else "false"
    return (
        f'    <bpmn:boundaryEvent id="{element_id}" attachedToRef="{attached_to}" cancelActivity="{cancel}">\n'
        "      <bpmn:timerEventDefinition>\n"
        f'        <bpmn:timeDuration>"{duration}"</bpmn:timeDuration>\n'
        "      </bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
    )


def error_boundary(element_id: str, attached_to: str, error_ref: str) -> str:
    return (
        f'    <bpmn:boundaryEvent id="{element_id}" attachedToRef="{attached_to}">\n'
        f'      <bpmn:errorEventDefinition errorRef="{error_ref}" />\n'
        "    </bpmn:boundaryEvent>\n"
    )


def error(error_id: str, code: str, variable: str = "error") -> str:
    """A <bpmn:error> declaration (goes before the process)."""
    return (
        f'  <bpmn:error id="{error_id}" name="{error_id}" errorCode="{code}">\n'
        "    <bpmn:extensionElements>\n"
        f'      <spiffworkflow:variableName>{variable}</spiffworkflow:variableName>\n'
        "    </bpmn:extensionElements>\n"
        "  </bpmn:error>\n"
    )


def element_id_of(element: str) -> str:
    return element.split('id="', 1)[1].split('"', 1)[0]


def chain(process_id: str, *elements: str, extra_body: str = "", extra: str = "", executable: bool = True,
          name: str = "") -> bytes:
    """A process that runs start → each element in order → end."""
    ids = ["start", *(element_id_of(e) for e in elements), "end"]
    body = start_event() + "".join(elements) + end_event()
    body += "".join(flow(f"flow_{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return definitions(process_id, body + extra_body, executable=executable, name=name, extra=extra)


# Whole processes used across the tests.

def script_process(script: str, process_id: str = "scripted") -> bytes:
    """start → script task `script` → user task `after` → end: the script's result waits to be looked at."""
    return chain(process_id, script_task("script", script), user_task("after"))


def user_task_process(process_id: str = "reviewing", *, tasks: tuple[str, ...] = ("review",),
                      script: str = "") -> bytes:
    """start → (optional script) → user tasks in order → end."""
    elements = [script_task("prepare", script)] if script else []
    elements += [user_task(t, name=t.replace("_", " ").title(), fields=("approved", "comment")) for t in tasks]
    return chain(process_id, *elements)


def service_process(operation: str, params: dict[str, str] | None = None, *, retries: int | None = None,
                    process_id: str = "servicing", result_variable: str = "result", then_user_task: bool = True,
                    backoff_base: int | None = None) -> bytes:
    """start → service task `call` → user task `after` → end."""
    elements = [service_task("call", operation, params, result_variable=result_variable, retries=retries,
                             backoff_base=backoff_base)]
    if then_user_task:
        elements.append(user_task("after"))
    return chain(process_id, *elements)


def gateway_process(process_id: str = "routing", condition: str = "amount > 1000") -> bytes:
    """start → gateway: `condition` → user task `manager`, default → user task `clerk`; both → end."""
    body = (
        start_event()
        + exclusive_gateway("decide", default="to_clerk")
        + user_task("manager")
        + user_task("clerk")
        + end_event("end_manager")
        + end_event("end_clerk")
        + flow("to_decide", "start", "decide")
        + flow("to_manager", "decide", "manager", condition)
        + flow("to_clerk", "decide", "clerk")
        + flow("manager_done", "manager", "end_manager")
        + flow("clerk_done", "clerk", "end_clerk")
    )
    return definitions(process_id, body)


def timer_boundary_process(process_id: str = "timed", duration: str = "PT1H", interrupting: bool = True) -> bytes:
    """start → user task `review` → end; a timer on `review` leads to user task `escalate` → end."""
    body = (
        start_event()
        + user_task("review")
        + timer_boundary("review_timer", "review", duration, interrupting)
        + user_task("escalate")
        + end_event()
        + end_event("end_escalated")
        + flow("f1", "start", "review")
        + flow("f2", "review", "end")
        + flow("f3", "review_timer", "escalate")
        + flow("f4", "escalate", "end_escalated")
    )
    return definitions(process_id, body)


def error_boundary_process(operation: str, code: str, params: dict[str, str] | None = None,
                           process_id: str = "guarded") -> bytes:
    """start → service `call` → end; an error boundary for `code` on `call` → user task `fix` → end."""
    body = (
        start_event()
        + service_task("call", operation, params)
        + error_boundary("call_failed", "call", "the_error")
        + user_task("fix")
        + end_event()
        + end_event("end_fixed")
        + flow("f1", "start", "call")
        + flow("f2", "call", "end")
        + flow("f3", "call_failed", "fix")
        + flow("f4", "fix", "end_fixed")
    )
    return definitions(process_id, body, extra=error("the_error", code))


def parallel_process(process_id: str = "parallel") -> bytes:
    """start → fork → user tasks `credit` and `stock` at once → join → user task `ship` → end."""
    body = (
        start_event()
        + '    <bpmn:parallelGateway id="fork" />\n'
        + user_task("credit", name="Check credit")
        + user_task("stock", name="Check stock")
        + '    <bpmn:parallelGateway id="join" />\n'
        + user_task("ship", name="Ship")
        + end_event()
        + flow("f1", "start", "fork")
        + flow("f2", "fork", "credit")
        + flow("f3", "fork", "stock")
        + flow("f4", "credit", "join")
        + flow("f5", "stock", "join")
        + flow("f6", "join", "ship")
        + flow("f7", "ship", "end")
    )
    return definitions(process_id, body)
