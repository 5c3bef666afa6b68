"""The client's configuration errors in the command's words.

The command is configured through the environment (FEDAPAY_API_KEY, FEDAPAY_ENVIRONMENT, FEDAPAY_BASE_URL,
FEDAPAY_ACCOUNT_ID, FEDAPAY_MAX_RETRIES, FEDAPAY_LOG) and `--concurrency`, while the client's
`InvalidArgumentError` names its Python arguments and tells a program what to pass (`pass api_key=...`,
`environment='live'`): an operator has no such argument to give. Each is said here with the variable or
option the operator sets instead.
"""

from __future__ import annotations

import re

from fedapay_payouts import InvalidArgumentError

# The client's argument (or the variable it names itself) -> what the command's operator sets.
INPUTS = {
    "api_key": "FEDAPAY_API_KEY",
    "environment": "FEDAPAY_ENVIRONMENT",
    "base_url": "FEDAPAY_BASE_URL",
    "account_id": "FEDAPAY_ACCOUNT_ID",
    "max_retries": "FEDAPAY_MAX_RETRIES",
    "FEDAPAY_LOG": "FEDAPAY_LOG",
    "max_in_flight": "--concurrency",
}
# "FEDAPAY_X (from the environment) ": the client's way of saying where a value came from; here it always does.
_FROM = re.compile(r"^(?:FEDAPAY_\w+ )?\(from the environment\) ")
_MISSING_KEY = re.compile(r"^is missing: pass api_key=\.\.\. or set FEDAPAY_API_KEY$")
# "pass environment='live' (or set FEDAPAY_ENVIRONMENT=live)": the variable alone.
_PASS_OR_SET = re.compile(r"pass \w+=\S+ \(or set (FEDAPAY_\w+=[^\s)]+)\)")
# "pass api_key=...", "environment='live'": an argument given a value.
_ARGUMENT_SET = re.compile(r"(?:\bpass )?\b(" + "|".join(INPUTS) + r")=('([^']*)'|\.\.\.)")
# A bare argument name (`environment` alone is an English word too, and never used as a name alone).
_ARGUMENT = re.compile(r"\b(api_key|base_url|account_id|max_retries|max_in_flight)\b")


def _set(match: re.Match[str]) -> str:
    value = match[3] if match[3] is not None else "..."
    return f"set {INPUTS[match[1]]}={value}"


def in_command_words(error: InvalidArgumentError) -> str | None:
    """The configuration error `error` as `INPUT problem` naming the command's own inputs; None when it is
    not about the configuration (an option of the run, such as --report, says its own name)."""
    name = INPUTS.get(error.argument)
    if name is None:
        return None
    problem = _FROM.sub("", error.problem)
    if _MISSING_KEY.match(problem):
        problem = ("is not set: set it to your FedaPay secret API key (sk_sandbox_... for the sandbox, sk_live_..."
                   " with FEDAPAY_ENVIRONMENT=live)")
    problem = _PASS_OR_SET.sub(r"set \1", problem)
    problem = _ARGUMENT_SET.sub(_set, problem)
    problem = _ARGUMENT.sub(lambda m: INPUTS[m[1]], problem)
    return f"{name} {problem}"


__all__ = ["INPUTS", "in_command_words"]
