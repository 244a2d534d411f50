"""The built-in test connector: operations that need no external system."""

from engine import connectors


@connectors.register("test.echo")
def echo(call: connectors.Call) -> dict:
    """Return the input unchanged, with the idempotency key it was called with."""
    return {"input": call.input, "idempotency_key": call.idempotency_key}


@connectors.register("test.reject")
def reject(call: connectors.Call) -> dict:
    """Always answer with a business error; the code comes from input `code`."""
    raise connectors.BusinessError(call.input.get("message", "rejected by test.reject"),
                                   code=call.input.get("code", "REJECTED"))
